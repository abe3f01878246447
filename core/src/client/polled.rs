//! One way to read every stream of the facade (pages, watches, followed
//! logs, proxy watches): a `Stream` on an async driver, an `Iterator` on a
//! blocking one, and an inherent `next()` that is the same call on both.

/// Something read item by item as its answers arrive.
pub(crate) trait Polled {
    /// What one step yields.
    type Item: Send;

    /// The next item, `None` at the end, `Pending` while waiting.
    fn poll_item(&mut self, cx: &mut std::task::Context<'_>)
    -> std::task::Poll<Option<Self::Item>>;
}

/// Implements `Stream` (async drivers), `Iterator` (blocking drivers) and
/// the inherent `next()` (every driver) for a [`Polled`] type whose first
/// generic parameter is its driver. The item is an alias over the same
/// parameters (`polled!(Pages[I: ViewItem] => PageItem)`), or a type that
/// does not depend on them (`polled!(LogLines => Result<LogLine>)`).
macro_rules! polled {
    ($ty:ident => $item:ty) => {
        $crate::client::polled::polled!(@impls []
            $ty<$crate::client::nonblocking::Async<T>>, $item;
            $ty<T>, $item;
            $ty<D>, $item);
    };
    ($ty:ident [$($g:ident: $b:path),*] => $item:ident) => {
        $crate::client::polled::polled!(@impls [$($g: $b),*]
            $ty<$crate::client::nonblocking::Async<T> $(, $g)*>, $item<$crate::client::nonblocking::Async<T> $(, $g)*>;
            $ty<T $(, $g)*>, $item<T $(, $g)*>;
            $ty<D $(, $g)*>, $item<D $(, $g)*>);
    };
    (@impls [$($g:ident: $b:path),*] $async:ty, $async_item:ty; $blocking:ty, $blocking_item:ty; $any:ty, $any_item:ty) => {
        impl<T, $($g: $b),*> futures_core::Stream for $async
        where
            T: $crate::client::transport::AsyncTransport + std::fmt::Debug,
        {
            type Item = $async_item;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                $crate::client::polled::Polled::poll_item(self.get_mut(), cx)
            }
        }

        impl<T, $($g: $b),*> Iterator for $blocking
        where
            T: $crate::client::transport::Transport + std::fmt::Debug,
        {
            type Item = $blocking_item;

            fn next(&mut self) -> Option<Self::Item> {
                $crate::client::blocking::block_on(std::future::poll_fn(|cx| {
                    $crate::client::polled::Polled::poll_item(self, cx)
                }))
            }
        }

        impl<D: $crate::client::driver::Driver, $($g: $b),*> $any {
            /// The next item (`None` at the end): the same call on both
            /// sides, as `Iterator::next` (blocking) and `StreamExt::next`
            /// (async) are.
            #[allow(clippy::should_implement_trait)] // the traits are implemented too; this one exists for every driver
            pub fn next(&mut self) -> D::Call<'_, Option<$any_item>> {
                D::call(std::future::poll_fn(move |cx| {
                    $crate::client::polled::Polled::poll_item(self, cx)
                }))
            }
        }
    };
}

pub(crate) use polled;
