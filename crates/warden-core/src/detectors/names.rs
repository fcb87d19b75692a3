//! Actions and resource types interned: the scan keys its maps by small numbers rather
//! than by the strings each row repeats.

use super::fx::FxMap;

/// Names seen in the log (actions, resource types), each kept once.
#[derive(Default)]
pub(super) struct Names {
    ids: FxMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    pub(super) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}
