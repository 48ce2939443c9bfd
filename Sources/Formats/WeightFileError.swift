/// Why a weight file (safetensors, PyTorch `torch.save`, Keras HDF5) could not be read or written.
///
/// Every case names the file, so the CLI prints it as one line a user can act on.
public enum WeightFileError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case cannotOpen(file: String, reason: String)
    /// The bytes end before a structure they announce.
    case truncated(file: String, detail: String)
    /// The structure is malformed or lies about itself (header length, offsets, sizes).
    case malformed(file: String, detail: String)
    /// Valid for its format, but holding something effnet does not read (a dtype, a storage kind, …).
    case unsupported(file: String, detail: String)
    /// A pickle names a global that loading weights never needs: refused before anything is read or run.
    case refusedGlobal(file: String, global: String)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "\(file): cannot open: \(reason)"
        case .truncated(let file, let detail): "\(file): truncated: \(detail)"
        case .malformed(let file, let detail): "\(file): \(detail)"
        case .unsupported(let file, let detail): "\(file): \(detail)"
        case .refusedGlobal(let file, let global):
            "\(file): the pickle calls '\(global)', which loading weights never needs; refused (nothing was run)"
        }
    }
}

/// Checked element count and byte size of a shape read from a file: nil when a dimension is negative or the
/// product overflows.
func checkedByteCount(shape: [Int], elementSize: Int) -> Int? {
    var n = elementSize
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow else { return nil }
        n = p
    }
    return n
}
