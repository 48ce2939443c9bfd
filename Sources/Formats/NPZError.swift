/// Why a `.npy` array or `.npz` archive could not be read or written.
///
/// Every case names the file (empty when decoding bytes that came from no file) and, where one is involved, the
/// archive member (`blocks.0.conv.weight.npy`) or array name, so the CLI can print `effnet: <description>` as one
/// line a user can act on.
public enum NPZError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped (`no such file`, `is a directory`, …).
    case cannotOpen(file: String, reason: String)
    /// The bytes end before a structure or member they announce.
    case truncated(file: String, member: String?, detail: String)
    /// The bytes are not what the format starts with (not a ZIP archive, not a `.npy` array).
    case badMagic(file: String, member: String?, detail: String)
    /// A member's CRC-32 differs from the one recorded in the central directory.
    case badCRC(file: String, member: String, stored: UInt32, computed: UInt32)
    /// A member is compressed with a method other than stored (0) or deflate (8).
    case unsupportedCompression(file: String, member: String, method: UInt16)
    /// A member is encrypted.
    case encrypted(file: String, member: String)
    /// An object array (`|O`): its data is a Python pickle, which is never unpickled.
    case pickle(file: String, member: String)
    /// A dtype the IR does not carry (`<u2`, `<c8`, `<U5`, structured, …).
    case unsupportedDType(file: String, member: String, descr: String)
    /// The `.npy` header is malformed (not a dict, missing keys, bad shape, unknown version, …).
    case badHeader(file: String, member: String, detail: String)
    /// Sizes disagree: header shape vs bytes present, stored vs declared sizes, inflated vs declared length.
    case sizeMismatch(file: String, member: String?, detail: String)
    /// The ZIP structure is malformed (bad central directory, offsets outside the archive, bad deflate data, …).
    case badArchive(file: String, member: String?, detail: String)
    /// Two members or arrays share one name.
    case duplicateName(file: String, member: String)
    /// A member that would take more memory than effnet accepts for it (a compression bomb).
    case tooLarge(file: String, member: String, detail: String)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason):
            return "\(file): cannot open: \(reason)"
        case .truncated(let file, let member, let detail):
            return Self.place(file, member) + "truncated: \(detail)"
        case .badMagic(let file, let member, let detail):
            return Self.place(file, member) + detail
        case .badCRC(let file, let member, let stored, let computed):
            return Self.place(file, member)
                + "bad CRC-32 (archive says \(Self.hex(stored)), data gives \(Self.hex(computed))): the data is corrupt"
        case .unsupportedCompression(let file, let member, let method):
            return Self.place(file, member)
                + "unsupported compression method \(method) (\(Self.methodName(method))); only stored and deflate are read"
        case .encrypted(let file, let member):
            return Self.place(file, member) + "is encrypted; encrypted archives are not supported"
        case .pickle(let file, let member):
            return Self.place(file, member)
                + "is an object array (dtype 'O') whose data is a Python pickle; pickles are never loaded"
        case .unsupportedDType(let file, let member, let descr):
            return Self.place(file, member) + "unsupported dtype \(descr)"
                + " (supported: float16/32/64, int8/16/32/64, uint8, bool, either byte order)"
                + (descr.contains("V2") ? "; a bfloat16 array saved by numpy loses its type, save it as float32" : "")
        case .badHeader(let file, let member, let detail):
            return Self.place(file, member) + "bad .npy header: \(detail)"
        case .sizeMismatch(let file, let member, let detail):
            return Self.place(file, member) + "size mismatch: \(detail)"
        case .badArchive(let file, let member, let detail):
            return Self.place(file, member) + "malformed ZIP archive: \(detail)"
        case .tooLarge(let file, let member, let detail):
            return Self.place(file, member) + detail
        case .duplicateName(let file, let member):
            return Self.place(file, nil) + "the name '\(member)' appears twice"
        }
    }

    /// The file this error is about (empty for bytes that came from no file).
    public var file: String {
        switch self {
        case .cannotOpen(let file, _), .truncated(let file, _, _), .badMagic(let file, _, _),
            .badCRC(let file, _, _, _), .unsupportedCompression(let file, _, _), .encrypted(let file, _),
            .pickle(let file, _), .unsupportedDType(let file, _, _), .badHeader(let file, _, _),
            .sizeMismatch(let file, _, _), .badArchive(let file, _, _), .duplicateName(let file, _),
            .tooLarge(let file, _, _):
            return file
        }
    }

    /// The same error about another file: decoders raise errors with an empty file name, readers fill it in.
    func inFile(_ file: String) -> NPZError {
        switch self {
        case .cannotOpen(_, let r): .cannotOpen(file: file, reason: r)
        case .truncated(_, let m, let d): .truncated(file: file, member: m, detail: d)
        case .badMagic(_, let m, let d): .badMagic(file: file, member: m, detail: d)
        case .badCRC(_, let m, let s, let c): .badCRC(file: file, member: m, stored: s, computed: c)
        case .unsupportedCompression(_, let m, let x): .unsupportedCompression(file: file, member: m, method: x)
        case .encrypted(_, let m): .encrypted(file: file, member: m)
        case .pickle(_, let m): .pickle(file: file, member: m)
        case .unsupportedDType(_, let m, let d): .unsupportedDType(file: file, member: m, descr: d)
        case .badHeader(_, let m, let d): .badHeader(file: file, member: m, detail: d)
        case .sizeMismatch(_, let m, let d): .sizeMismatch(file: file, member: m, detail: d)
        case .badArchive(_, let m, let d): .badArchive(file: file, member: m, detail: d)
        case .duplicateName(_, let m): .duplicateName(file: file, member: m)
        case .tooLarge(_, let m, let d): .tooLarge(file: file, member: m, detail: d)
        }
    }

    /// `file: member 'x': ` with the parts that are known.
    private static func place(_ file: String, _ member: String?) -> String {
        var s = file.isEmpty ? "" : "\(file): "
        if let member { s += "'\(member)': " }
        return s
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    private static func methodName(_ method: UInt16) -> String {
        switch method {
        case 1: "shrink"
        case 6: "implode"
        case 9: "deflate64"
        case 12: "bzip2"
        case 14: "lzma"
        case 93: "zstandard"
        case 95: "xz"
        case 98: "ppmd"
        case 99: "AES encryption"
        default: "unknown"
        }
    }
}
