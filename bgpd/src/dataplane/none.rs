//! The `none` backend: programs nothing, for route-reflector-only nodes. It still accepts every
//! change so that the API shows what would have been programmed.

use super::{Capabilities, Change, Dataplane, DataplaneError, DataplaneState};

#[derive(Debug, Default)]
pub struct NoDataplane {
    state: DataplaneState,
}

impl Dataplane for NoDataplane {
    fn name(&self) -> &'static str {
        "none"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            inline_policies: false,
            modes: vec!["nothing is programmed (dataplane.backend = \"none\")".to_string()],
        }
    }

    async fn read(&mut self) -> Result<DataplaneState, DataplaneError> {
        Ok(self.state.clone())
    }

    async fn apply(&mut self, changes: &[Change]) -> Vec<Result<(), DataplaneError>> {
        changes
            .iter()
            .map(|c| {
                c.apply_to(&mut self.state);
                Ok(())
            })
            .collect()
    }
}
