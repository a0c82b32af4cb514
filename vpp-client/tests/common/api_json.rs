//! A small layout calculator over VPP's `.api.json` files: field offsets and sizes of every
//! message, computed from the JSON (packed structs), to cross-check the hand-written codecs.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

/// `../shared` relative to the workspace root; fails clearly if missing.
pub fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("vpp").is_dir(),
        "shared test data not found at {} (expected the read-only ../shared next to the \
         workspace, with vpp/api, vpp/transcripts, vpp/masks.json)",
        dir.display()
    );
    dir
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    /// Size of the fixed part (0 for a trailing variable array).
    pub size: usize,
    /// Element size for arrays (fixed or variable).
    pub elem: usize,
    /// The field's type name.
    pub ty: String,
}

pub struct Api {
    messages: HashMap<String, (Vec<Value>, String)>,
    types: HashMap<String, Vec<Value>>,
    unions: HashMap<String, Vec<Value>>,
    enums: HashMap<String, String>,
    aliases: HashMap<String, Value>,
}

impl Api {
    pub fn load() -> Self {
        let dir = shared_dir().join("vpp/api");
        let mut api = Api {
            messages: HashMap::new(),
            types: HashMap::new(),
            unions: HashMap::new(),
            enums: HashMap::new(),
            aliases: HashMap::new(),
        };
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if !p.to_string_lossy().ends_with(".api.json") {
                continue;
            }
            n += 1;
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            for m in v["messages"].as_array().unwrap() {
                let m = m.as_array().unwrap();
                let name = m[0].as_str().unwrap().to_string();
                let meta = m.last().unwrap();
                let crc = meta["crc"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("0x")
                    .to_string();
                api.messages.insert(name, (m[1..m.len() - 1].to_vec(), crc));
            }
            for (key, map) in [("types", &mut api.types), ("unions", &mut api.unions)] {
                for t in v[key].as_array().unwrap() {
                    let t = t.as_array().unwrap();
                    let fields = t[1..].iter().filter(|f| f.is_array()).cloned().collect();
                    map.insert(t[0].as_str().unwrap().to_string(), fields);
                }
            }
            for en in v["enums"]
                .as_array()
                .unwrap()
                .iter()
                .chain(v["enumflags"].as_array().unwrap())
            {
                let en = en.as_array().unwrap();
                let ty = en.last().unwrap()["enumtype"].as_str().unwrap().to_string();
                api.enums.insert(en[0].as_str().unwrap().to_string(), ty);
            }
            for (k, a) in v["aliases"].as_object().unwrap() {
                api.aliases.insert(k.clone(), a.clone());
            }
        }
        assert!(
            n >= 13,
            "expected the 13 .api.json files in {}",
            dir.display()
        );
        api
    }

    /// The message's CRC (lower-case hex, no `0x`).
    pub fn crc(&self, msg: &str) -> &str {
        &self
            .messages
            .get(msg)
            .unwrap_or_else(|| panic!("no message {msg} in the API JSON"))
            .1
    }

    fn type_size(&self, ty: &str) -> usize {
        match ty {
            "u8" | "i8" | "bool" => return 1,
            "u16" | "i16" => return 2,
            "u32" | "i32" | "f32" => return 4,
            "u64" | "i64" | "f64" => return 8,
            _ => {}
        }
        let base = ty.trim_start_matches("vl_api_").trim_end_matches("_t");
        if let Some(a) = self.aliases.get(base) {
            let inner = self.type_size(a["type"].as_str().unwrap());
            return inner * a.get("length").and_then(Value::as_u64).unwrap_or(1) as usize;
        }
        if let Some(e) = self.enums.get(base) {
            return self.type_size(e);
        }
        if let Some(fields) = self.types.get(base) {
            return self.layout_of(fields).iter().map(|f| f.size).sum();
        }
        if let Some(members) = self.unions.get(base) {
            return self
                .layout_of(members)
                .iter()
                .map(|f| f.size)
                .max()
                .unwrap_or(0);
        }
        panic!("unknown type {ty}")
    }

    fn layout_of(&self, fields: &[Value]) -> Vec<Field> {
        let mut off = 0;
        let mut out = Vec::new();
        for f in fields {
            let f = f.as_array().unwrap();
            let ty = f[0].as_str().unwrap();
            let name = f[1].as_str().unwrap().to_string();
            let len = f.get(2).and_then(Value::as_u64);
            let (size, elem) = if ty == "string" {
                match len {
                    Some(0) | None => (4, 1), // vl_api_string_t length prefix
                    Some(n) => (n as usize, 1),
                }
            } else {
                let e = self.type_size(ty);
                match len {
                    None => (e, e),
                    Some(0) => (0, e), // variable array [count_field]
                    Some(n) => (e * n as usize, e),
                }
            };
            out.push(Field {
                name,
                offset: off,
                size,
                elem,
                ty: ty.to_string(),
            });
            off += size;
        }
        out
    }

    /// Top-level fields of a message with their offsets.
    pub fn layout(&self, msg: &str) -> Vec<Field> {
        let (fields, _) = self
            .messages
            .get(msg)
            .unwrap_or_else(|| panic!("no message {msg}"));
        self.layout_of(fields)
    }

    /// Fixed size of a message (without trailing variable arrays) and the trailing element size.
    pub fn size(&self, msg: &str) -> (usize, usize) {
        let l = self.layout(msg);
        let fixed = l.iter().map(|f| f.size).sum();
        let var = l
            .last()
            .filter(|f| f.size == 0)
            .map(|f| f.elem)
            .unwrap_or(0);
        (fixed, var)
    }

    /// Offset and size of `path` (`a.b.c`, descending into struct types).
    pub fn field(&self, msg: &str, path: &str) -> (usize, usize) {
        let mut parts = path.split('.');
        let first = parts.next().unwrap();
        let mut f = self
            .layout(msg)
            .into_iter()
            .find(|f| f.name == first)
            .unwrap_or_else(|| panic!("{msg} has no field {first}"));
        let mut off = f.offset;
        for p in parts {
            let base =
                f.ty.trim_start_matches("vl_api_")
                    .trim_end_matches("_t")
                    .to_string();
            let inner = self
                .types
                .get(&base)
                .unwrap_or_else(|| panic!("{base} is not a struct"));
            f = self
                .layout_of(inner)
                .into_iter()
                .find(|x| x.name == p)
                .unwrap_or_else(|| panic!("{base} has no field {p}"));
            off += f.offset;
        }
        (off, f.size)
    }
}
