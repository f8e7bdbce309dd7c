//! Declaring a model once: each attribute's name, type, description and
//! behaviour stand in one line next to its field, and [`model!`] generates
//! the rest (the struct, its conversions from and to Terraform values, its
//! schema block, and the plan helpers that follow from the flags).
//!
//! ```text
//! model! {
//!     /// `imagecopier_example` as Terraform sees it.
//!     pub struct ExampleModel("An example resource.") {
//!         id: String [computed, aws] "The example's id.",
//!         image_id: String [required, replace] "The AMI. Changing it replaces the example.",
//!         note: String [optional] "A note, updated in place.",
//!     }
//! }
//! ```
//!
//! Flags:
//! - `required`, `optional`, `computed` (`optional, computed` for an argument
//!   with a provider default): what configuration may set.
//! - `sensitive`: redacted in Terraform's output.
//! - `replace`: a changed value replaces the object ([`Declared`]'s
//!   `replaced_attributes`).
//! - `aws`: AWS decides the value: unknown in a create plan
//!   (`forget_aws_values`), the prior value in an update plan.
//! - `keep`: the prior value in an update plan (`keep_prior_values`), though
//!   the provider knows it at create (a key's ARN resolved at plan time).
//!
//! A field whose type is itself a declared model is a nested block (at most
//! one, like `timeouts`); it takes no flags.

use std::collections::{BTreeMap, BTreeSet};

use super::schema::{Attribute, Block, NestedBlock};
use super::value::Type;

/// A type an attribute can have, with its Terraform type.
pub trait AttributeType {
    /// The Terraform type of attributes holding this type.
    fn ty() -> Type;
}

impl AttributeType for String {
    fn ty() -> Type {
        Type::String
    }
}

impl AttributeType for bool {
    fn ty() -> Type {
        Type::Bool
    }
}

impl AttributeType for i64 {
    fn ty() -> Type {
        Type::Number
    }
}

impl<T: AttributeType> AttributeType for Vec<T> {
    fn ty() -> Type {
        Type::list(T::ty())
    }
}

impl<T: AttributeType> AttributeType for BTreeSet<T> {
    fn ty() -> Type {
        Type::set(T::ty())
    }
}

impl<T: AttributeType> AttributeType for BTreeMap<String, T> {
    fn ty() -> Type {
        Type::map(T::ty())
    }
}

/// Something a model's field can declare in its block: an attribute of an
/// [`AttributeType`], or a nested block of a declared model.
pub trait Declare {
    /// `block` with the field `name` added, as `flags` and `description` say.
    fn declare(block: Block, name: &str, flags: &[&str], description: &str) -> Block;
}

impl<T: AttributeType> Declare for T {
    fn declare(block: Block, name: &str, flags: &[&str], description: &str) -> Block {
        block.attribute(attribute(name, T::ty(), flags, description))
    }
}

/// A model declared with [`model!`].
pub trait Declared {
    /// Each field's attribute name and flags, in declaration order.
    const FIELDS: &'static [(&'static str, &'static [&'static str])];

    /// The model's block, with `description`.
    fn block_described(description: &str) -> Block;

    /// The model's block with its declared description.
    fn block() -> Block;
}

/// The flags a field may carry; anything else is a mistake in a declaration.
pub const FLAGS: &[&str] = &[
    "required",
    "optional",
    "computed",
    "sensitive",
    "replace",
    "aws",
    "keep",
];

/// Whether `flag` is among `flags`.
pub fn has(flags: &[&str], flag: &str) -> bool {
    flags.contains(&flag)
}

/// The attribute `name` of type `ty`, as `flags` describe it. Panics on a
/// flag not in [`FLAGS`] or a contradictory set of them: a declaration bug
/// that every resource's schema unit test reaches before any release.
pub fn attribute(name: &str, ty: Type, flags: &[&str], description: &str) -> Attribute {
    if let Some(unknown) = flags.iter().find(|f| !FLAGS.contains(f)) {
        panic!("attribute {name}: unknown flag {unknown:?}");
    }
    let base = match (
        has(flags, "required"),
        has(flags, "optional"),
        has(flags, "computed"),
    ) {
        (true, false, false) => Attribute::required(name, ty, description),
        (false, true, false) => Attribute::optional(name, ty, description),
        (false, false, true) => Attribute::computed(name, ty, description),
        (false, true, true) => Attribute::optional_computed(name, ty, description),
        _ => {
            panic!("attribute {name}: needs required, optional, computed, or optional and computed")
        }
    };
    if has(flags, "sensitive") {
        base.sensitive()
    } else {
        base
    }
}

/// A nested block of at most one, for a field whose type is a declared model.
pub fn single_block<M: Declared>(block: Block, name: &str, description: &str) -> Block {
    block.block(NestedBlock::single(name, M::block_described(description)))
}

/// Declares a model struct; see the module documentation.
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident ($description:expr) {
            $( $field:ident : $ty:ty [ $($flag:ident),* ] $doc:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $name {
            $(
                #[doc = concat!("`", stringify!($field), "`: see the schema's description.")]
                $vis $field: $crate::protocol::typed::Field<$ty>,
            )*
        }

        impl $crate::protocol::typed::FromValue for $name {
            fn from_value(
                value: &$crate::protocol::value::Value,
                path: &$crate::protocol::diagnostics::AttrPath,
            ) -> Result<Self, $crate::protocol::diagnostics::Diagnostic> {
                let reader = $crate::protocol::typed::ObjectReader::new(value, path)?;
                Ok(Self { $( $field: reader.get(stringify!($field))?, )* })
            }
        }

        impl $crate::protocol::typed::IntoValue for $name {
            fn to_value(&self) -> $crate::protocol::value::Value {
                $crate::protocol::typed::ObjectWriter::new()
                    $( .set(stringify!($field), &self.$field) )*
                    .build()
            }
        }

        impl $crate::protocol::declare::Declared for $name {
            const FIELDS: &'static [(&'static str, &'static [&'static str])] =
                &[ $( (stringify!($field), &[ $(stringify!($flag)),* ]) ),* ];

            fn block_described(description: &str) -> $crate::protocol::schema::Block {
                let block = $crate::protocol::schema::Block::new(description);
                $(
                    let block = <$ty as $crate::protocol::declare::Declare>::declare(
                        block,
                        stringify!($field),
                        &[ $(stringify!($flag)),* ],
                        &$doc.to_string(),
                    );
                )*
                block
            }

            fn block() -> $crate::protocol::schema::Block {
                Self::block_described(&$description.to_string())
            }
        }

        impl $crate::protocol::declare::Declare for $name {
            fn declare(
                block: $crate::protocol::schema::Block,
                name: &str,
                _flags: &[&str],
                description: &str,
            ) -> $crate::protocol::schema::Block {
                $crate::protocol::declare::single_block::<$name>(block, name, description)
            }
        }

        #[allow(dead_code)]
        impl $name {
            /// The attributes flagged `replace` whose value differs from `prior`.
            $vis fn replaced_attributes(
                &self,
                prior: &Self,
            ) -> Vec<$crate::protocol::diagnostics::AttrPath> {
                let mut paths = Vec::new();
                $(
                    if $crate::protocol::declare::has(&[ $(stringify!($flag)),* ], "replace")
                        && self.$field != prior.$field
                    {
                        paths.push($crate::protocol::diagnostics::AttrPath::root(stringify!($field)));
                    }
                )*
                paths
            }

            /// Every attribute flagged `aws` unknown, as the plan of a new object shows it.
            $vis fn forget_aws_values(&mut self) {
                $(
                    if $crate::protocol::declare::has(&[ $(stringify!($flag)),* ], "aws") {
                        self.$field = $crate::protocol::typed::Field::Unknown;
                    }
                )*
            }

            /// Every attribute still unknown takes its value from `found`:
            /// the state after apply is the plan with the blanks filled in.
            $vis fn fill_unknown_from(&mut self, found: Self) {
                $(
                    if self.$field.is_unknown() {
                        self.$field = found.$field;
                    }
                )*
            }

            /// Every attribute flagged `aws` or `keep` as in `prior`, as an in-place update plans it.
            $vis fn keep_prior_values(&mut self, prior: &Self) {
                $(
                    let flags: &[&str] = &[ $(stringify!($flag)),* ];
                    if $crate::protocol::declare::has(flags, "aws")
                        || $crate::protocol::declare::has(flags, "keep")
                    {
                        self.$field = prior.$field.clone();
                    }
                )*
            }
        }
    };
}

pub(crate) use model;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::diagnostics::AttrPath;
    use crate::protocol::typed::{Field, FromValue, IntoValue};

    model! {
        /// A nested block for the tests.
        pub(crate) struct Limits("Limits.") {
            create: String [optional] "How long create may take.",
        }
    }

    model! {
        /// A model for the tests.
        pub(crate) struct Sample("A sample resource.") {
            id: String [computed, aws] "The id.",
            image_id: String [required, replace] "The AMI.",
            name: String [optional, computed, replace] "The name.",
            secret: String [optional, sensitive] "A secret.",
            arn: String [computed, keep] "An ARN known at plan.",
            tags: BTreeMap<String, String> [optional] "Tags.",
            ids: Vec<String> [computed, aws] "Ids.",
            limits: Limits [] "Limits block.",
        }
    }

    #[test]
    fn the_schema_follows_the_declaration() {
        let block = Sample::block();
        assert_eq!(block.description, "A sample resource.");
        let names: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "image_id", "name", "secret", "arn", "tags", "ids"]
        );
        let get = |name: &str| block.get_attribute(name).expect(name);
        assert!(get("id").computed && !get("id").optional && !get("id").required);
        assert!(get("image_id").required);
        assert!(get("name").optional && get("name").computed);
        assert!(get("secret").sensitive && get("secret").optional);
        assert_eq!(get("tags").ty, Type::map(Type::String));
        assert_eq!(get("ids").ty, Type::list(Type::String));
        assert_eq!(get("image_id").description, "The AMI.");
        let limits = block.get_block("limits").expect("nested block");
        assert_eq!(limits.block.description, "Limits block.");
        assert!(limits
            .block
            .get_attribute("create")
            .is_some_and(|a| a.optional));
        assert!(block.missing_descriptions().is_empty());
    }

    #[test]
    fn values_round_trip_through_the_declared_names(
    ) -> Result<(), crate::protocol::diagnostics::Diagnostic> {
        let model = Sample {
            id: Field::Known("x-1".into()),
            image_id: Field::Known("ami-12345678".into()),
            name: Field::Unknown,
            tags: Field::Known([("k".to_owned(), "v".to_owned())].into()),
            limits: Field::Known(Limits {
                create: Field::Known("5m".into()),
            }),
            ..Sample::default()
        };
        let value = model.to_value();
        assert_eq!(Sample::from_value(&value, &AttrPath::default())?, model);
        Ok(())
    }

    #[test]
    fn plan_helpers_follow_the_flags() {
        let prior = Sample {
            id: Field::Known("x-1".into()),
            image_id: Field::Known("ami-11111111".into()),
            name: Field::Known("n".into()),
            arn: Field::Known("arn:1".into()),
            ids: Field::Known(vec!["a".into()]),
            tags: Field::Known(BTreeMap::new()),
            ..Sample::default()
        };
        let mut planned = Sample {
            image_id: Field::Known("ami-22222222".into()),
            name: Field::Known("n".into()),
            tags: Field::Null,
            ..Sample::default()
        };
        assert_eq!(
            planned.replaced_attributes(&prior),
            vec![AttrPath::root("image_id")]
        );
        planned.keep_prior_values(&prior);
        assert_eq!(planned.id, prior.id);
        assert_eq!(planned.arn, prior.arn);
        assert_eq!(planned.ids, prior.ids);
        assert!(planned.tags.is_null(), "tags are neither aws nor keep");
        planned.forget_aws_values();
        assert!(planned.id.is_unknown() && planned.ids.is_unknown());
        assert_eq!(planned.arn, prior.arn, "keep is not forgotten");
        planned.fill_unknown_from(prior.clone());
        assert_eq!(planned.id, prior.id);
        assert_eq!(
            planned.image_id,
            Field::Known("ami-22222222".into()),
            "known values stay"
        );
    }

    #[test]
    #[should_panic(expected = "unknown flag")]
    fn a_misspelt_flag_is_refused() {
        attribute("x", Type::String, &["optinal"], "X.");
    }
}
