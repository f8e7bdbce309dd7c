//! Recycle Bin retention rules: what keeps an AMI or snapshot that a
//! destroy deregistered or deleted. Such a resource is still billed and can
//! be restored until its retention period ends, which a user who destroyed
//! it would not expect; destroy reports it.
//!
//! ListRules answers summaries without the tags a rule selects by, so each
//! rule is read once with GetRule. The rules of an account and region are
//! read once per provider process (one Terraform command): a destroy of a
//! hundred copies costs two ListRules and one GetRule per rule.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_rbin::types::{ResourceTag, ResourceType, RuleStatus};

use super::clients::AwsClients;
use super::errors::AwsError;
use super::memo::{Forgotten, Memo};

/// What a destroy removes, as Recycle Bin tells resources apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retained {
    /// A deregistered AMI (`EC2_IMAGE`).
    Image,
    /// A deleted snapshot (`EBS_SNAPSHOT`).
    Snapshot,
}

impl Retained {
    fn resource_type(self) -> ResourceType {
        match self {
            Self::Image => ResourceType::Ec2Image,
            Self::Snapshot => ResourceType::EbsSnapshot,
        }
    }
}

/// One retention rule, with what it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's identifier.
    pub id: String,
    /// How long it keeps what it selects, e.g. `7 days`.
    pub retention: String,
    /// Tag-level rule: it keeps resources carrying any of these (key, and
    /// value when given). Empty for a Region-level rule.
    tags: Vec<(String, Option<String>)>,
    /// Region-level rule: it keeps every resource but those carrying any
    /// of these.
    exclude: Vec<(String, Option<String>)>,
}

impl Rule {
    /// Whether the rule keeps a resource tagged `tags`.
    pub fn keeps(&self, tags: &BTreeMap<String, String>) -> bool {
        let carries = |(key, value): &(String, Option<String>)| {
            tags.get(key)
                .is_some_and(|v| value.as_ref().is_none_or(|want| want == v))
        };
        if self.tags.is_empty() {
            !self.exclude.iter().any(carries)
        } else {
            self.tags.iter().any(carries)
        }
    }
}

/// An account, a region, and the type of resource its rules keep.
type RulesKey = (String, String, Retained);

/// The rules read by this provider process, by account, region and type
/// (this provider changes no rule).
static RULES: Memo<RulesKey, Arc<Vec<Rule>>> = Memo::new(Forgotten::Never);

impl AwsClients {
    /// The available retention rules here that keep a resource of `kind`
    /// tagged `tags`.
    pub async fn rules_keeping(
        &self,
        kind: Retained,
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, AwsError> {
        let key = (self.account_id.clone(), self.region.clone(), kind);
        let rules = RULES
            .get_or_ask(key, || async { self.list_rules(kind).await.map(Arc::new) })
            .await?;
        Ok(rules.iter().filter(|r| r.keeps(tags)).cloned().collect())
    }

    async fn list_rules(&self, kind: Retained) -> Result<Vec<Rule>, AwsError> {
        let mut pages = self
            .rbin
            .list_rules()
            .resource_type(kind.resource_type())
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|err| AwsError::from_sdk("calling Recycle Bin ListRules", err))?;
            ids.extend(
                page.rules()
                    .iter()
                    .filter_map(|r| r.identifier().map(str::to_owned)),
            );
        }
        let mut rules = Vec::new();
        for id in ids {
            let rule = self
                .rbin
                .get_rule()
                .identifier(&id)
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("calling Recycle Bin GetRule", err))?;
            // A rule still being set up keeps nothing yet.
            if rule.status() != Some(&RuleStatus::Available) {
                continue;
            }
            let retention = rule
                .retention_period()
                .map(|p| {
                    format!(
                        "{} {}",
                        p.retention_period_value(),
                        p.retention_period_unit().as_str().to_lowercase()
                    )
                })
                .unwrap_or_default();
            rules.push(Rule {
                id,
                retention,
                tags: pairs(rule.resource_tags()),
                exclude: pairs(rule.exclude_resource_tags()),
            });
        }
        Ok(rules)
    }
}

fn pairs(tags: &[ResourceTag]) -> Vec<(String, Option<String>)> {
    tags.iter()
        .map(|t| {
            (
                t.resource_tag_key().to_owned(),
                t.resource_tag_value().map(str::to_owned),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(tags: &[(&str, Option<&str>)], exclude: &[(&str, Option<&str>)]) -> Rule {
        let own = |list: &[(&str, Option<&str>)]| {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
                .collect()
        };
        Rule {
            id: "r".to_owned(),
            retention: "7 days".to_owned(),
            tags: own(tags),
            exclude: own(exclude),
        }
    }

    #[test]
    fn which_rules_keep_a_resource() {
        let tagged = BTreeMap::from([
            ("Stage".to_owned(), "PROD".to_owned()),
            ("Encrypted".to_owned(), "true".to_owned()),
        ]);
        assert!(
            rule(&[], &[]).keeps(&tagged),
            "a Region-level rule keeps all"
        );
        assert!(!rule(&[], &[("Stage", Some("PROD"))]).keeps(&tagged));
        assert!(!rule(&[], &[("Stage", None)]).keeps(&tagged));
        assert!(rule(&[], &[("Stage", Some("DEV"))]).keeps(&tagged));
        assert!(rule(&[("Stage", Some("PROD")), ("x", None)], &[]).keeps(&tagged));
        assert!(rule(&[("Encrypted", None)], &[]).keeps(&tagged));
        assert!(!rule(&[("Stage", Some("DEV"))], &[]).keeps(&tagged));
    }
}
