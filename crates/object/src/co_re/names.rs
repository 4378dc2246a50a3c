//! Names as CO-RE sees them: essential names without `___flavor` suffixes,
//! and libbpf's lowercase kind names for log lines.

use crate::btf::Kind;

/// The essential part of a type, field or enumerator name: everything
/// before the last `___` that separates two non-underscore characters
/// (libbpf's `bpf_core_essential_name_len`), so `task_struct___v5` and
/// `task_struct` are candidates for each other.
///
/// ```
/// use bpfkit_object::co_re::essential_name;
/// assert_eq!(essential_name("task_struct___v5"), "task_struct");
/// assert_eq!(essential_name("a___b___c"), "a___b");
/// assert_eq!(essential_name("__x___"), "__x___");
/// assert_eq!(essential_name("x____y"), "x____y");
/// ```
pub fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    if b.len() < 5 {
        return name;
    }
    for i in (0..=b.len() - 5).rev() {
        if b[i] != b'_' && &b[i + 1..i + 4] == b"___" && b[i + 4] != b'_' {
            // `i + 1` is a char boundary: b[i + 1] is an ASCII underscore.
            return &name[..i + 1];
        }
    }
    name
}

/// Whether two names have the same essential name.
pub(crate) fn same_essential(a: &str, b: &str) -> bool {
    essential_name(a) == essential_name(b)
}

/// libbpf's `btf_kind_str`: the lowercase kind name used in its CO-RE log
/// lines (`struct`, `func_proto`, ...).
pub fn kind_str(kind: Kind) -> &'static str {
    use Kind::*;
    match kind {
        Void => "void",
        Int => "int",
        Ptr => "ptr",
        Array => "array",
        Struct => "struct",
        Union => "union",
        Enum => "enum",
        Fwd => "fwd",
        Typedef => "typedef",
        Volatile => "volatile",
        Const => "const",
        Restrict => "restrict",
        Func => "func",
        FuncProto => "func_proto",
        Var => "var",
        Datasec => "datasec",
        Float => "float",
        DeclTag => "decl_tag",
        TypeTag => "type_tag",
        Enum64 => "enum64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors() {
        assert_eq!(essential_name("sk_buff"), "sk_buff");
        assert_eq!(essential_name("sk_buff___old"), "sk_buff");
        assert_eq!(essential_name("sk_buff___2"), "sk_buff");
        assert_eq!(essential_name("___x"), "___x");
        assert_eq!(essential_name("a___"), "a___");
        assert_eq!(essential_name("a___b"), "a");
        assert_eq!(essential_name(""), "");
        assert_eq!(essential_name("é___b"), "é");
        assert!(same_essential("foo___a", "foo___b"));
        assert!(!same_essential("foo___a", "foobar"));
    }
}
