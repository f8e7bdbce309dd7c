//! The data source's checks and its one search.

use crate::aws::image::Image;
use crate::aws::image_search::{search_images, ImageQuery};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::typed::Field;
use crate::resources::reach;
use crate::shared::Shared;
use crate::validate;

use super::model::ImageModel;
#[cfg(test)]
use crate::resources::string_set::StringSet;

/// Owner aliases DescribeImages `Owners` takes besides account ids.
const OWNER_ALIASES: &[&str] = &["self", "amazon", "aws-marketplace", "aws-backup-vault"];

/// Static checks, each naming its attribute; unknown values pass.
pub(super) fn validate(config: &ImageModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // Owners from a variable or another resource are not known yet at
    // validate; they are checked once they are.
    if let Some(owners) = config.owners.known().and_then(|set| set.known()) {
        if owners.is_empty() {
            diags.push(
                Diagnostic::error(
                    "Invalid owners",
                    "owners must name at least one owner: an account id, \"self\" or \"amazon\".",
                )
                .at(AttrPath::root("owners")),
            );
        }
        for owner in &owners {
            let account = owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit());
            if !account && !OWNER_ALIASES.contains(&owner.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "Invalid owners",
                        format!(
                            "owners must hold 12-digit account ids or {}, got {owner:?}.",
                            OWNER_ALIASES.join(", ")
                        ),
                    )
                    .at(AttrPath::root("owners")),
                );
            }
        }
    }
    if let Some(pattern) = config.name_pattern.known() {
        if pattern.is_empty() {
            diags.push(
                Diagnostic::error(
                    "Invalid name_pattern",
                    "name_pattern must not be empty: leave it out to match any name, or use \"*\".",
                )
                .at(AttrPath::root("name_pattern")),
            );
        }
    }
    if let Some(tags) = config.tags.known() {
        if tags.keys().any(String::is_empty) {
            diags.push(
                Diagnostic::error("Invalid tags", "tags keys must not be empty.")
                    .at(AttrPath::root("tags")),
            );
        }
    }
    diags.extend(
        config
            .region
            .check(AttrPath::root("region"), |region| validate::region(region)),
    );
    diags
}

/// The owners, once known (a data source is read with a known configuration).
fn owners_of(config: &ImageModel) -> Vec<String> {
    config
        .owners
        .known()
        .and_then(|set| set.known())
        .map(|set| set.into_iter().collect())
        .unwrap_or_default()
}

/// The DescribeImages search `config` asks for: only available AMIs, since
/// a pending or failed one cannot be copied or launched.
fn query_of(config: &ImageModel) -> ImageQuery {
    let mut filters = vec![("state".to_owned(), vec!["available".to_owned()])];
    if let Some(pattern) = config.name_pattern.known() {
        filters.push(("name".to_owned(), vec![pattern.clone()]));
    }
    for (key, value) in config.tags.known().into_iter().flatten() {
        filters.push((format!("tag:{key}"), vec![value.clone()]));
    }
    ImageQuery {
        owners: owners_of(config),
        filters,
        include_deprecated: config.include_deprecated.known() == Some(&true),
        include_disabled: false,
    }
}

/// Finds the newest match and fills in what it reports.
pub(super) async fn read(shared: &Shared, config: ImageModel) -> Result<ImageModel, Diagnostics> {
    let clients = reach::clients_for(shared, &config.region, &Field::Null).await?;
    let query = query_of(&config);
    let found = search_images(&clients, &query)
        .await
        .map_err(|err| Diagnostics::from(Diagnostic::error("reading AMIs", err.to_string())))?;
    let Some(image) = found.into_iter().next() else {
        return Err(Diagnostic::error("No AMI matches", no_match(&config, &clients.region)).into());
    };
    Ok(filled(config, image, &clients.region))
}

fn no_match(config: &ImageModel, region: &str) -> String {
    let owners = owners_of(config).join(", ");
    let mut criteria = format!("owned by {owners} in region {region}");
    if let Some(pattern) = config.name_pattern.known() {
        criteria.push_str(&format!(" with a name matching {pattern:?}"));
    }
    if let Some(tags) = config.tags.known().filter(|t| !t.is_empty()) {
        let shown: Vec<String> = tags.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
        criteria.push_str(&format!(" tagged {}", shown.join(", ")));
    }
    let deprecated = if config.include_deprecated.known() == Some(&true) {
        ""
    } else {
        " Deprecated AMIs are left out unless include_deprecated = true."
    };
    format!(
        "No available AMI {criteria} is visible to this account.{deprecated} Another account's AMI is visible only \
         once it is shared with this account (imagecopier_ami_share), and its tags never are. If the bake account \
         has stopped sharing and this configuration is being destroyed, run terraform destroy -refresh=false: it \
         destroys what state holds without reading this data source (copies never need their source to be \
         destroyed)."
    )
}

fn filled(config: ImageModel, image: Image, region: &str) -> ImageModel {
    ImageModel {
        id: Field::Known(image.id),
        region: Field::Known(region.to_owned()),
        name: Field::Known(image.name),
        description: Field::Known(image.description),
        owner_id: Field::Known(image.owner_id),
        creation_date: Field::Known(image.creation_date),
        deprecation_time: Field::Known(image.deprecation_time),
        architecture: Field::Known(image.architecture),
        root_device_name: Field::Known(image.root_device_name),
        virtualization_type: Field::Known(image.virtualization_type),
        platform_details: Field::Known(image.platform_details),
        encrypted: Field::Known(image.encrypted),
        snapshot_ids: Field::Known(image.snapshot_ids),
        image_tags: Field::Known(image.tags),
        ..config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(owners: &[&str]) -> ImageModel {
        let set = owners.iter().map(|s| (*s).to_owned()).collect();
        ImageModel {
            owners: Field::Known(StringSet::from_set(&set)),
            ..ImageModel::default()
        }
    }

    #[test]
    fn owners_are_accounts_or_aliases() {
        assert!(validate(&config(&["111111111111", "self", "amazon"]))
            .0
            .is_empty());
        let diags = validate(&config(&["self", "1111"]));
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].path, Some(AttrPath::root("owners")));
        assert!(diags.0[0].detail.contains("\"1111\""), "{diags:?}");
        assert_eq!(validate(&config(&[])).0.len(), 1);
    }

    #[test]
    fn the_query_asks_for_available_amis_by_name_and_tags() {
        let mut model = config(&["111111111111"]);
        model.name_pattern = Field::Known("app-*".into());
        model.tags = Field::Known([("team".to_owned(), "images".to_owned())].into());
        let query = query_of(&model);
        assert_eq!(query.owners, vec!["111111111111".to_owned()]);
        assert_eq!(
            query.filters,
            vec![
                ("state".to_owned(), vec!["available".to_owned()]),
                ("name".to_owned(), vec!["app-*".to_owned()]),
                ("tag:team".to_owned(), vec!["images".to_owned()]),
            ]
        );
        assert!(!query.include_deprecated);
        model.include_deprecated = Field::Known(true);
        assert!(query_of(&model).include_deprecated);
    }

    #[test]
    fn no_match_names_the_criteria_and_the_fix() {
        let mut model = config(&["111111111111"]);
        model.name_pattern = Field::Known("app-*".into());
        let text = no_match(&model, "eu-west-1");
        assert!(
            text.contains("owned by 111111111111 in region eu-west-1"),
            "{text}"
        );
        assert!(text.contains("\"app-*\""), "{text}");
        assert!(text.contains("include_deprecated = true"), "{text}");
    }
}
