//! A release's three icon files, one type wherever they travel (render, cache, output).

/// The icon as found (re-encoded when it was crushed), and the 57 px and 512 px images the
/// manifest names as `display-image` and `full-size-image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct IconSet<T> {
    pub original: T,
    pub display: T,
    pub full_size: T,
}

/// The file names of the three, in a release folder.
pub(crate) const FILE_NAMES: IconSet<&str> = IconSet {
    original: "icon.png",
    display: "icon-57.png",
    full_size: "icon-512.png",
};

/// The side of the resized two, in pixels (`None`: as found).
pub(crate) const SIDES: IconSet<Option<u32>> = IconSet {
    original: None,
    display: Some(57),
    full_size: Some(512),
};

impl<T> IconSet<T> {
    pub(crate) fn map<U>(self, mut f: impl FnMut(T) -> U) -> IconSet<U> {
        IconSet {
            original: f(self.original),
            display: f(self.display),
            full_size: f(self.full_size),
        }
    }

    pub(crate) fn as_ref(&self) -> IconSet<&T> {
        IconSet {
            original: &self.original,
            display: &self.display,
            full_size: &self.full_size,
        }
    }

    /// Pairs each of `self` with the same one of `other`.
    pub(crate) fn zip<U>(self, other: IconSet<U>) -> IconSet<(T, U)> {
        IconSet {
            original: (self.original, other.original),
            display: (self.display, other.display),
            full_size: (self.full_size, other.full_size),
        }
    }

    /// The three, original first.
    pub(crate) fn into_array(self) -> [T; 3] {
        [self.original, self.display, self.full_size]
    }
}

impl<T> IconSet<Option<T>> {
    /// All three, or `None` when any is missing.
    pub(crate) fn transpose(self) -> Option<IconSet<T>> {
        Some(IconSet {
            original: self.original?,
            display: self.display?,
            full_size: self.full_size?,
        })
    }
}
