//! The whole pipeline from loaded files to objects, shared by the command
//! line, tests and benchmarks.

use crate::check;
use crate::diag::Diagnostic;
use crate::emit::{self, Object};
use crate::ir::Program;
use crate::load::Loaded;

/// What the bundle is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Function Mesh custom resources, for clusters running the operator.
    #[default]
    Crd,
    /// The StatefulSets, Services and autoscalers the operator would create.
    Workloads,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub target: Target,
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

impl Options {
    /// The options of the check stage alone.
    pub fn check_options(&self) -> check::Options {
        check::Options { profile: self.profile.clone(), mesh: self.mesh, schema_rules: self.schema_rules }
    }
}

pub fn compile(loaded: &Loaded, opts: &Options) -> Output {
    let (program, diags) = check::check(loaded, &opts.check_options());
    let objects = program.as_ref().map(|p| match opts.target {
        Target::Crd => emit::crd::emit(p, emit::crd::CrdOptions { mesh: opts.mesh }),
        Target::Workloads => emit::workloads::emit(p),
    });
    Output { program, objects, diags }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_fields_are_merged_into_the_spec() {
        let src = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic input : string external
function f(string) = java("com.F") {
  jar = "f.jar"
  passthrough { imagePullPolicy = "Always", java { extraDependenciesDir = "deps" }, "downloaderImage" = "x:1" }
}
pipeline x { input -> f }
"#;
        for mesh in [false, true] {
            let loaded = crate::load::load_text("p.mesh", src);
            let out = compile(&loaded, &Options { mesh, ..Options::default() });
            let objects = out.objects.expect("compiles");
            let cr = objects.iter().find(|o| o.kind == "Function" || o.kind == "FunctionMesh").unwrap();
            let spec = if mesh { &cr.value["spec"]["functions"][0] } else { &cr.value["spec"] };
            assert_eq!(spec["imagePullPolicy"], "Always");
            assert_eq!(spec["downloaderImage"], "x:1");
            // Merged into the object mesh writes, not replacing it.
            assert_eq!(spec["java"]["jar"], "f.jar");
            assert_eq!(spec["java"]["extraDependenciesDir"], "deps");
        }
    }

    #[test]
    fn connectors_take_extra_dependencies() {
        let src = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic input : string external
sink s = connector("com.S") { jar = "s.nar", extra_dependencies_dir = "/pulsar/lib" }
pipeline x { input -> s }
"#;
        let loaded = crate::load::load_text("c.mesh", src);
        let out = compile(&loaded, &Options::default());
        let objects = out.objects.expect("compiles");
        let sink = objects.iter().find(|o| o.kind == "Sink").unwrap();
        assert_eq!(sink.value["spec"]["java"]["extraDependenciesDir"], "/pulsar/lib");
    }

    #[test]
    fn serde_classes_replace_the_schema_on_their_side() {
        let src = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic input : bytes external
topic output : bytes external
function f(string) -> string = java("com.F") { jar = "f.jar", serde { input = "com.InSerDe", output = "com.OutSerDe" } }
pipeline x { input -> f -> output }
"#;
        let loaded = crate::load::load_text("s.mesh", src);
        let out = compile(&loaded, &Options::default());
        assert!(out.diags.is_empty(), "{:?}", out.diags);
        let objects = out.objects.expect("compiles");
        let spec = &objects.iter().find(|o| o.kind == "Function").unwrap().value["spec"];
        assert_eq!(spec["input"]["customSerdeSources"]["persistent://public/default/input"], "com.InSerDe");
        assert!(spec["input"].get("sourceSpecs").is_none());
        assert_eq!(spec["output"]["sinkSerdeClassName"], "com.OutSerDe");
        assert!(spec["output"].get("sinkSchemaType").is_none());
    }
}
