//! Pods, their containers and container states.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::items::fields::Fields;
use crate::items::typed::typed_item;
use crate::time::Timestamp;

typed_item!(
    /// A Pod at one resourceVersion.
    ///
    /// ```
    /// use kubewire::{Pod, model::{PodPhase, TypedItem}};
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(br#"{"kind":"Pod","apiVersion":"v1",
    ///   "metadata":{"name":"web-0","namespace":"demo"},
    ///   "spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]},
    ///   "status":{"phase":"Running","podIP":"fd00::5"}}"#)).unwrap();
    /// let pod = Pod::from_item(item).unwrap();
    /// assert_eq!(pod.phase().unwrap(), PodPhase::Running);
    /// assert_eq!(pod.ip().unwrap().to_string(), "fd00::5");
    /// assert!(matches!(pod.host_ip(), Err(kubewire::Error::StatusUnavailable { .. })));
    /// assert_eq!(pod.containers().unwrap()[0].image(), "nginx:1.27");
    /// ```
    Pod
);

/// `status.phase` of a Pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PodPhase {
    /// Accepted, not all containers running yet.
    Pending,
    /// Bound to a node, at least one container running.
    Running,
    /// Every container terminated successfully.
    Succeeded,
    /// Every container terminated, at least one in failure.
    Failed,
    /// The state could not be obtained.
    Unknown,
}

impl PodPhase {
    fn parse(s: &str) -> Option<PodPhase> {
        Some(match s {
            "Pending" => PodPhase::Pending,
            "Running" => PodPhase::Running,
            "Succeeded" => PodPhase::Succeeded,
            "Failed" => PodPhase::Failed,
            "Unknown" => PodPhase::Unknown,
            _ => return None,
        })
    }
}

impl Pod {
    /// `status.phase`.
    pub fn phase(&self) -> Result<PodPhase> {
        self.fields().choice(
            "status.phase",
            PodPhase::parse,
            "Pending, Running, Succeeded, Failed or Unknown",
        )
    }

    /// `status.startTime`.
    pub fn start_time(&self) -> Result<Timestamp> {
        self.fields().time("status.startTime")
    }

    /// `status.podIP`, v4 or v6.
    pub fn ip(&self) -> Result<IpAddr> {
        self.fields().ip("status.podIP")
    }

    /// `status.hostIP`, v4 or v6.
    pub fn host_ip(&self) -> Result<IpAddr> {
        self.fields().ip("status.hostIP")
    }

    /// `status.message`.
    pub fn message(&self) -> Result<String> {
        self.fields().string("status.message")
    }

    /// `status.reason`.
    pub fn reason(&self) -> Result<String> {
        self.fields().string("status.reason")
    }

    /// The pod's containers, from `spec.containers`, each joined with its
    /// entry of `status.containerStatuses` when there is one — so they are
    /// listed even before any status exists.
    pub fn containers(&self) -> Result<Vec<Container<'_>>> {
        let f = self.fields();
        let specs = f.array("spec.containers")?;
        let statuses = f.get("status.containerStatuses").and_then(Value::as_array);
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let name =
                    spec.get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| Error::FieldValue {
                            field: format!("spec.containers[{i}].name"),
                            value: spec.get("name").map(Value::to_string).unwrap_or_default(),
                            expected: "a container name".into(),
                        })?;
                let status = statuses
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .find(|(_, s)| s.get("name").and_then(Value::as_str) == Some(name));
                Ok(Container {
                    pod: self,
                    spec,
                    status: status.map(|(j, s)| (s, format!("status.containerStatuses[{j}]"))),
                })
            })
            .collect()
    }
}

/// One container of a [`Pod`]: its spec, and its status when the kubelet
/// reported one.
#[derive(Clone, Debug)]
pub struct Container<'a> {
    pod: &'a Pod,
    spec: &'a Value,
    status: Option<(&'a Value, String)>,
}

impl<'a> Container<'a> {
    fn status(&self) -> Result<Fields<'_>> {
        match &self.status {
            Some((v, at)) => Ok(Fields::new(v, at)),
            None => Err(Error::StatusUnavailable {
                field: format!("status.containerStatuses[name={}]", self.name()),
            }),
        }
    }

    /// The pod this container belongs to.
    pub fn pod(&self) -> &'a Pod {
        self.pod
    }

    /// The container's status JSON, when reported (else its spec).
    pub fn raw(&self) -> &'a Value {
        self.status.as_ref().map_or(self.spec, |(v, _)| v)
    }

    /// The container name (a spec fact, always there).
    pub fn name(&self) -> &'a str {
        self.spec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The image: as the kubelet reports it, else as the spec asks for it.
    pub fn image(&self) -> &'a str {
        self.status
            .as_ref()
            .and_then(|(v, _)| v.get("image"))
            .or_else(|| self.spec.get("image"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `restartCount`; 0 before any status exists.
    pub fn restart_count(&self) -> i64 {
        self.status
            .as_ref()
            .and_then(|(v, _)| v.get("restartCount"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// `containerID`, e.g. `containerd://…`.
    pub fn id(&self) -> Result<String> {
        self.status()?.string("containerID")
    }

    /// `imageID`: the image digest that runs.
    pub fn image_id(&self) -> Result<String> {
        self.status()?.string("imageID")
    }

    /// `ready`.
    pub fn ready(&self) -> Result<bool> {
        self.status()?.boolean("ready")
    }

    /// `state`: what the container does now.
    pub fn state(&self) -> Result<ContainerState<'_>> {
        let f = self.status()?;
        Ok(ContainerState {
            value: f.value("state")?,
            at: f.name("state"),
        })
    }

    /// `lastState`: how the previous instance ended.
    pub fn last_state(&self) -> Result<ContainerState<'_>> {
        let f = self.status()?;
        Ok(ContainerState {
            value: f.value("lastState")?,
            at: f.name("lastState"),
        })
    }
}

/// A container state: `running`, `waiting` or `terminated`, with details.
#[derive(Clone, Debug)]
pub struct ContainerState<'a> {
    value: &'a Value,
    at: String,
}

impl<'a> ContainerState<'a> {
    fn fields(&self) -> Fields<'_> {
        Fields::new(self.value, &self.at)
    }

    /// The state's JSON.
    pub fn raw(&self) -> &'a Value {
        self.value
    }

    /// True when the `running` state is set.
    pub fn running(&self) -> bool {
        self.fields().get("running").is_some()
    }

    /// True when the `waiting` state is set.
    pub fn waiting(&self) -> bool {
        self.fields().get("waiting").is_some()
    }

    /// True when the `terminated` state is set.
    pub fn terminated(&self) -> bool {
        self.fields().get("terminated").is_some()
    }

    /// `running`, `waiting` or `terminated`; an error when none or more
    /// than one is set.
    pub fn name(&self) -> Result<&'static str> {
        let set: Vec<&'static str> = [
            ("running", self.running()),
            ("waiting", self.waiting()),
            ("terminated", self.terminated()),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect();
        match set.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::StatusUnavailable {
                field: self.at.clone(),
            }),
            many => Err(Error::FieldValue {
                field: self.at.clone(),
                value: many.join(","),
                expected: "exactly one of running, waiting, terminated".into(),
            }),
        }
    }

    /// The first of `paths` that is set, as the error names the first.
    fn first<T>(&self, paths: &[&str], read: impl Fn(&Fields<'_>, &str) -> Result<T>) -> Result<T> {
        let f = self.fields();
        match paths.iter().find(|p| f.get(p).is_some()) {
            Some(p) => read(&f, p),
            None => read(&f, paths[0]),
        }
    }

    /// `startedAt` of the running or terminated state.
    pub fn started_at(&self) -> Result<Timestamp> {
        self.first(&["running.startedAt", "terminated.startedAt"], |f, p| {
            f.time(p)
        })
    }

    /// `terminated.finishedAt`.
    pub fn finished_at(&self) -> Result<Timestamp> {
        self.fields().time("terminated.finishedAt")
    }

    /// `terminated.exitCode`.
    pub fn exit_code(&self) -> Result<i64> {
        self.fields().int("terminated.exitCode")
    }

    /// `terminated.signal`.
    pub fn signal(&self) -> Result<i64> {
        self.fields().int("terminated.signal")
    }

    /// `reason` of the waiting or terminated state (e.g. `OOMKilled`).
    pub fn reason(&self) -> Result<String> {
        self.first(&["waiting.reason", "terminated.reason"], |f, p| f.string(p))
    }

    /// `message` of the waiting or terminated state.
    pub fn message(&self) -> Result<String> {
        self.first(&["waiting.message", "terminated.message"], |f, p| {
            f.string(p)
        })
    }

    /// `terminated.containerID`.
    pub fn container_id(&self) -> Result<String> {
        self.fields().string("terminated.containerID")
    }
}
