/// Bounds on sizes a user or a model's config asks for (sizes of buffers go through `MemoryBudget` instead).
package enum ModelLimits {
    /// Largest input size S (S×S pixels) a flag or a config may ask for.
    package static let maxSize = 2048
    /// Smallest center-crop fraction: below it the resize before the crop would be absurdly large.
    package static let minCropPct = 0.05
    /// Worker threads: far above any core count effnet is tuned for, far below what exhausts thread stacks.
    package static let maxThreads = 256
    /// Largest image accepted, in pixels, checked from the file's header before decoding (`run --max-pixels`'s
    /// default).
    package static let maxPixels = 100_000_000
}
