//! The whole pipeline from loaded files to objects, shared by the command
//! line, tests and benchmarks.

use crate::check;
use crate::diag::Diagnostic;
use crate::emit::{self, Object};
use crate::ir::Program;
use crate::load::Loaded;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub profile: Option<String>,
    /// One FunctionMesh instead of one object per component.
    pub mesh: bool,
    pub schema_rules: crate::schema::avro_compat::Rules,
}

pub struct Output {
    pub program: Option<Program>,
    pub objects: Option<Vec<Object>>,
    pub diags: Vec<Diagnostic>,
}

pub fn compile(loaded: &Loaded, opts: &Options) -> Output {
    let (program, diags) = check::check(
        loaded,
        &check::Options { profile: opts.profile.clone(), mesh: opts.mesh, schema_rules: opts.schema_rules },
    );
    let objects = program.as_ref().map(|p| emit::crd::emit(p, emit::crd::CrdOptions { mesh: opts.mesh }));
    Output { program, objects, diags }
}
