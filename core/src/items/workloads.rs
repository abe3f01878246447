//! The replica counters controllers write: ReplicaSet,
//! ReplicationController, Deployment, DaemonSet.

use crate::error::Result;
use crate::items::typed::typed_item;

typed_item!(
    /// A ReplicaSet at one resourceVersion.
    ReplicaSet
);
typed_item!(
    /// A ReplicationController at one resourceVersion.
    ReplicationController
);
typed_item!(
    /// A Deployment at one resourceVersion.
    Deployment
);
typed_item!(
    /// A DaemonSet at one resourceVersion.
    DaemonSet
);

/// Status counters, each `Err(StatusUnavailable)` until the controller
/// writes it.
macro_rules! counters {
    ($ty:ident: $($(#[$doc:meta])* $method:ident => $field:literal),+ $(,)?) => {
        impl $ty {
            $(
                $(#[$doc])*
                pub fn $method(&self) -> Result<i64> {
                    self.fields().int(concat!("status.", $field))
                }
            )+
        }
    };
}

counters!(ReplicaSet:
    /// `status.availableReplicas`.
    available_replicas => "availableReplicas",
    /// `status.fullyLabeledReplicas`.
    fully_labeled_replicas => "fullyLabeledReplicas",
    /// `status.observedGeneration`.
    observed_generation => "observedGeneration",
    /// `status.replicas`: the replicas the controller observed.
    observed_replicas => "replicas",
    /// `status.readyReplicas`.
    ready_replicas => "readyReplicas",
);

counters!(ReplicationController:
    /// `status.availableReplicas`.
    available_replicas => "availableReplicas",
    /// `status.fullyLabeledReplicas`.
    fully_labeled_replicas => "fullyLabeledReplicas",
    /// `status.observedGeneration`.
    observed_generation => "observedGeneration",
    /// `status.replicas`: the replicas the controller observed.
    observed_replicas => "replicas",
    /// `status.readyReplicas`.
    ready_replicas => "readyReplicas",
);

counters!(Deployment:
    /// `status.availableReplicas`.
    available_replicas => "availableReplicas",
    /// `status.observedGeneration`.
    observed_generation => "observedGeneration",
    /// `status.replicas`: the replicas the controller observed.
    observed_replicas => "replicas",
    /// `status.unavailableReplicas`.
    unavailable_replicas => "unavailableReplicas",
    /// `status.updatedReplicas`.
    updated_replicas => "updatedReplicas",
);

counters!(DaemonSet:
    /// `status.currentNumberScheduled`.
    current_number_scheduled => "currentNumberScheduled",
    /// `status.desiredNumberScheduled`.
    desired_number_scheduled => "desiredNumberScheduled",
    /// `status.numberMisscheduled`.
    number_misscheduled => "numberMisscheduled",
    /// `status.numberReady`.
    number_ready => "numberReady",
);
