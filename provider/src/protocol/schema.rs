//! Schemas in plain Rust: what resources declare and the gRPC adapter turns
//! into protobuf. Builders keep resource schema files readable:
//!
//! ```text
//! Block::new("Shares an AMI and copies it into target accounts.")
//!     .attribute(Attribute::required("image_id", Type::String, "The AMI to share."))
//!     .attribute(Attribute::computed("id", Type::String, "The copy's AMI ID."))
//!     .block(NestedBlock::list("target", target_block).max_items(10))
//! ```

use super::value::Type;

/// A resource's, data source's or provider's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Bumped when the state layout changes; drives `UpgradeResourceState`.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A schema at `version` with `block` at the top.
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }
}

/// A block: attributes plus nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested block types, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown shown in generated docs.
    pub description: String,
    /// Whether Terraform warns on use.
    pub deprecated: bool,
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Name as written in configuration.
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Markdown shown in generated docs.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (alone, or when configuration leaves it null if also optional).
    pub computed: bool,
    /// Redacted in Terraform's output.
    pub sensitive: bool,
    /// Whether Terraform warns on use.
    pub deprecated: bool,
}

/// How the blocks of one nested block type are collected into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; an object, or null when absent.
    Single,
    /// Ordered blocks; a list of objects.
    List,
    /// Unordered blocks; a set of objects.
    Set,
    /// Blocks with one label each; a map of objects keyed by label.
    Map,
    /// Exactly one block; Terraform fills in an absent one with nulls.
    Group,
}

/// A nested block type within a block.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// Block type name as written in configuration.
    pub type_name: String,
    /// The block's contents.
    pub block: Block,
    /// How blocks of this type are collected.
    pub nesting: Nesting,
    /// Fewest blocks allowed (List and Set only; 0 for no minimum).
    pub min_items: i64,
    /// Most blocks allowed (List and Set only; 0 for no maximum).
    pub max_items: i64,
}

impl Block {
    /// An empty block with `description`.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }

    /// Adds `attribute` (builder).
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds nested block type `block` (builder).
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Marks the block deprecated (builder).
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Attribute `name`, if the block has one.
    pub fn get_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Nested block type `type_name`, if the block has one.
    pub fn get_block(&self, type_name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == type_name)
    }

    /// The object type of this block's values, which is the type the codecs
    /// decode configuration, plans and state with.
    pub fn value_type(&self) -> Type {
        let attributes = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()));
        let blocks = self
            .blocks
            .iter()
            .map(|b| (b.type_name.clone(), b.value_type()));
        Type::object(attributes.chain(blocks))
    }

    /// Paths (`copies.kms_key_id`) of the attributes and blocks that lack a
    /// description; `""` stands for this block itself. Empty when every part
    /// of the schema is documented.
    pub fn missing_descriptions(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.description.trim().is_empty() {
            missing.push(String::new());
        }
        self.collect_missing("", &mut missing);
        missing
    }

    fn collect_missing(&self, prefix: &str, missing: &mut Vec<String>) {
        for attribute in &self.attributes {
            if attribute.description.trim().is_empty() {
                missing.push(format!("{prefix}{}", attribute.name));
            }
        }
        for nested in &self.blocks {
            let path = format!("{prefix}{}", nested.type_name);
            if nested.block.description.trim().is_empty() {
                missing.push(path.clone());
            }
            nested.block.collect_missing(&format!("{path}."), missing);
        }
    }
}

impl Attribute {
    /// An attribute the configuration must set.
    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Self {
            required: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set; null when it does not.
    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set, and the provider sets when it does not.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// Marks the attribute sensitive (builder).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute deprecated (builder).
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            description: description.to_owned(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
        }
    }
}

impl NestedBlock {
    /// At most one `type_name` block.
    pub fn single(type_name: &str, block: Block) -> Self {
        Self::new(type_name, block, Nesting::Single)
    }

    /// Any number of ordered `type_name` blocks.
    pub fn list(type_name: &str, block: Block) -> Self {
        Self::new(type_name, block, Nesting::List)
    }

    /// Any number of unordered `type_name` blocks.
    pub fn set(type_name: &str, block: Block) -> Self {
        Self::new(type_name, block, Nesting::Set)
    }

    /// `type_name` blocks with one label each.
    pub fn map(type_name: &str, block: Block) -> Self {
        Self::new(type_name, block, Nesting::Map)
    }

    /// Exactly one `type_name` block, filled in with nulls when absent.
    pub fn group(type_name: &str, block: Block) -> Self {
        Self::new(type_name, block, Nesting::Group)
    }

    /// Requires at least `n` blocks (builder; List and Set only).
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    /// Allows at most `n` blocks (builder; List and Set only).
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    /// The type of this block type's value within its parent's object.
    pub fn value_type(&self) -> Type {
        let object = self.block.value_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::list(object),
            Nesting::Set => Type::set(object),
            Nesting::Map => Type::map(object),
        }
    }

    fn new(type_name: &str, block: Block, nesting: Nesting) -> Self {
        Self {
            type_name: type_name.to_owned(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }
}

#[cfg(test)]
mod tests;
