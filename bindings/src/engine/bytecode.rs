//! Scenario scripts compiled to QuickJS bytecode once, loaded by every session that runs them.
//!
//! The host compiles a scenario when it builds a catalog version ([`Script::compiled`]); a
//! session then reads the bytecode instead of parsing the source, which leaves an INVITE with no
//! file I/O and no parsing. Debug information (file name, lines) is kept, so stack traces and
//! error positions read as they do from source. A script that does not compile keeps no
//! bytecode: the session evaluates its source and reports the error as it always did.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::sync::Arc;

use rquickjs::{Context, Ctx, Runtime, Value, qjs};

use super::js_error::Thrown;
use super::validate::CompileError;
use crate::host::Script;

/// Heap for the throwaway runtime that compiles one script.
const COMPILE_HEAP_BYTES: usize = 64 << 20;

/// A script compiled by this build's QuickJS in this process (never read from outside it).
#[derive(Clone)]
pub struct Compiled(Arc<[u8]>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Compiled({} bytes)", self.0.len())
    }
}

impl Compiled {
    /// Size of the bytecode.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a compiled script has at least its header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Script {
    /// A script that sessions evaluate from source (parsed by each session).
    pub fn from_source(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
            compiled: None,
        }
    }

    /// A script compiled now, loaded as bytecode by every session. One that does not compile
    /// keeps its source only, so that each session reports the error in its log as it loads.
    pub fn compile(name: impl Into<String>, source: impl Into<String>) -> Self {
        let mut script = Self::from_source(name, source);
        script.compiled = compile(&script.name, &script.source).ok();
        script
    }
}

/// Compiles `source` as a global, non-strict script named `name` (as a session evaluates it).
pub fn compile(name: &str, source: &str) -> Result<Compiled, CompileError> {
    let failed = |what: &str, e: rquickjs::Error| CompileError(format!("{what}: {e}"));
    let runtime = Runtime::new().map_err(|e| failed("no JS runtime", e))?;
    runtime.set_memory_limit(COMPILE_HEAP_BYTES);
    let context = Context::full(&runtime).map_err(|e| failed("no JS context", e))?;
    let text = CString::new(source)
        .map_err(|_| CompileError(format!("{name}: the source contains a NUL character")))?;
    let file = CString::new(name)
        .map_err(|_| CompileError("the script's name contains a NUL character".into()))?;
    context.with(|ctx| {
        let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
        // SAFETY: `text` is NUL-terminated and `source.len()` long; the result is owned by us.
        let function = unsafe {
            qjs::JS_Eval(
                ctx.as_raw().as_ptr(),
                text.as_ptr(),
                source.len() as _,
                file.as_ptr(),
                flags,
            )
        };
        if is_exception(function) {
            let thrown = Thrown::from_value(&ctx, &ctx.catch());
            return Err(CompileError(thrown.text()));
        }
        // SAFETY: an owned value of this context; dropping it frees it.
        let function = unsafe { Value::from_raw(ctx.clone(), function) };
        let mut size: qjs::size_t = 0;
        // SAFETY: `function` is a live compiled function of this context.
        let buffer = unsafe {
            qjs::JS_WriteObject(
                ctx.as_raw().as_ptr(),
                &mut size,
                function.as_raw(),
                qjs::JS_WRITE_OBJ_BYTECODE as i32,
            )
        };
        if buffer.is_null() {
            let thrown = Thrown::from_value(&ctx, &ctx.catch());
            return Err(CompileError(format!("writing bytecode: {}", thrown.text())));
        }
        // SAFETY: QuickJS returned `size` bytes at `buffer`, ours to free with js_free.
        let bytes: Arc<[u8]> = unsafe { std::slice::from_raw_parts(buffer, size as usize) }.into();
        // SAFETY: allocated by this context's allocator in JS_WriteObject.
        unsafe { qjs::js_free(ctx.as_raw().as_ptr(), buffer.cast()) };
        Ok(Compiled(bytes))
    })
}

/// Runs a compiled script in `ctx`'s global scope; a thrown value is left pending in `ctx`
/// (as `Ctx::eval` leaves it) and reported as [`rquickjs::Error::Exception`].
pub(crate) fn run(ctx: &Ctx<'_>, compiled: &Compiled) -> rquickjs::Result<()> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytes were written by `compile` above (this QuickJS build, this process);
    // without JS_READ_OBJ_ROM_DATA QuickJS copies what it keeps.
    let function = unsafe {
        qjs::JS_ReadObject(
            raw,
            compiled.0.as_ptr(),
            compiled.0.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        )
    };
    if is_exception(function) {
        return Err(rquickjs::Error::Exception);
    }
    // SAFETY: JS_EvalFunction takes ownership of `function`; the result is ours to free.
    let result = unsafe { qjs::JS_EvalFunction(raw, function) };
    if is_exception(result) {
        return Err(rquickjs::Error::Exception);
    }
    // SAFETY: an owned value of this context; dropping it frees it.
    drop(unsafe { Value::from_raw(ctx.clone(), result) });
    Ok(())
}

fn is_exception(value: qjs::JSValue) -> bool {
    // SAFETY: reads the tag of a value, which every JSValue has.
    unsafe { qjs::JS_VALUE_GET_TAG(value) == qjs::JS_TAG_EXCEPTION }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_compiled(script: &Script) -> Result<String, String> {
        let rt = Runtime::new().expect("runtime");
        let ctx = Context::full(&rt).expect("context");
        ctx.with(|ctx| {
            let compiled = script.compiled.as_ref().expect("compiled");
            match run(&ctx, compiled) {
                Ok(()) => Ok(ctx.globals().get::<_, String>("out").unwrap_or_default()),
                Err(_) => Err(Thrown::from_value(&ctx, &ctx.catch()).text()),
            }
        })
    }

    #[test]
    fn a_compiled_script_runs_in_another_runtime_with_its_globals_and_line_numbers() {
        let script = Script::compile(
            "greet.voxengine.js",
            "var out = 'hi';\nfunction later() { return 1; }\nout += later();\n",
        );
        assert_eq!(eval_compiled(&script), Ok("hi1".into()));
        let failing = Script::compile("boom.voxengine.js", "var out = 1;\n\nnull.x;\n");
        let text = eval_compiled(&failing).expect_err("throws");
        assert!(
            text.starts_with("TypeError: cannot read property 'x' of null")
                && text.contains("boom.voxengine.js:3"),
            "{text}"
        );
    }

    #[test]
    fn a_script_that_does_not_compile_keeps_only_its_source_and_says_where() {
        let script = Script::compile("bad.voxengine.js", "let a = ;\n");
        assert!(script.compiled.is_none());
        let error = compile("bad.voxengine.js", "let a = ;\n").expect_err("syntax error");
        assert!(
            error
                .0
                .starts_with("SyntaxError: unexpected token in expression: ';'")
                && error.0.contains("bad.voxengine.js:1"),
            "{}",
            error.0
        );
    }
}
