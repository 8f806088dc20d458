//! Every diagnostic code, with the explanation `mesh explain CODE` prints.

pub struct CodeInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

pub static CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "E0001",
        title: "syntax error",
        explanation: "The text does not follow the grammar of the mesh language. The message says what the \
parser expected at the marked place. Parsing resumes at the next line that starts a declaration, so \
every broken declaration of a file is reported in one run.\n\n  topic orders : \n                ^ expected a type\n\n\
Fix: complete the declaration, e.g. `topic orders : Order`.",
    },
    CodeInfo {
        code: "E0002",
        title: "nesting too deep",
        explanation: "Lists, blocks and type arguments may nest at most 64 levels. Deeper input is refused \
before it is parsed, so that no file can exhaust the compiler's stack.\n\n  let x = [[[[ ... 65 levels ... ]]]]\n\n\
Fix: flatten the value. No Function Mesh setting needs more than a handful of levels.",
    },
    CodeInfo {
        code: "E0003",
        title: "invalid escape in a string",
        explanation: "Strings accept the escapes \\n \\r \\t \\0 \\\\ \\\" and \\u{XXXX} (a Unicode scalar value in hex).\n\n\
  jar = \"C:\\jars\\x.jar\"    // `\\j` is not an escape\n\nFix: double the backslash (`\\\\`) or use the escape you meant.",
    },
    CodeInfo {
        code: "E0004",
        title: "number out of range",
        explanation: "Integers are 64-bit signed numbers; floats must be finite. Settings with narrower Kubernetes \
types (int32) are checked against their own range where they are used.\n\n  let big = 99999999999999999999\n\n\
Fix: use a smaller number.",
    },
];
