//! The nine seed-kind view methods, written once for both facades.

/// Expands to `nodes()`, `namespaces()`, `pods()`, ... returning
/// `$view<D, Kind>`; the surrounding impl provides `fn view<I>()`.
macro_rules! seed_views {
    ($view:ident) => {
        /// Nodes (cluster-scoped).
        pub fn nodes(&self) -> $view<D, crate::items::node::Node> {
            self.view()
        }
        /// Namespaces (cluster-scoped).
        pub fn namespaces(&self) -> $view<D, crate::items::namespace::Namespace> {
            self.view()
        }
        /// Pods, in every namespace until bound to one.
        pub fn pods(&self) -> $view<D, crate::items::pod::Pod> {
            self.view()
        }
        /// Services.
        pub fn services(&self) -> $view<D, crate::items::service::Service> {
            self.view()
        }
        /// Secrets.
        pub fn secrets(&self) -> $view<D, crate::items::secret::Secret> {
            self.view()
        }
        /// ReplicaSets.
        pub fn replicasets(&self) -> $view<D, crate::items::workloads::ReplicaSet> {
            self.view()
        }
        /// ReplicationControllers.
        pub fn replicationcontrollers(
            &self,
        ) -> $view<D, crate::items::workloads::ReplicationController> {
            self.view()
        }
        /// DaemonSets.
        pub fn daemonsets(&self) -> $view<D, crate::items::workloads::DaemonSet> {
            self.view()
        }
        /// Deployments.
        pub fn deployments(&self) -> $view<D, crate::items::workloads::Deployment> {
            self.view()
        }
    };
}

pub(crate) use seed_views;
