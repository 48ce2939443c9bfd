/// Why an image could not be read or prepared; every case names the file it is about.
///
/// `description` is one line, `<file>: <problem>`; `problem` is the same line without the file, for callers that
/// print the file themselves (the CLI's `effnet: <file>: <problem>`).
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read (missing, a directory, no permission).
    case unreadable(file: String, reason: String)
    /// The file holds no bytes.
    case empty(file: String)
    /// The content is a known image format effnet does not decode (GIF, WebP, BMP, TIFF, …).
    case unsupportedFormat(file: String, format: String)
    /// The content is not an image at all.
    case notAnImage(file: String, start: String)
    /// The data ends before the image does.
    case truncated(file: String, format: String, detail: String)
    /// The codec rejected the data.
    case corrupt(file: String, format: String, detail: String)
    /// The image is valid but of a kind not handled (12-bit JPEG, absurd dimensions).
    case unsupportedImage(file: String, detail: String)

    public var file: String {
        switch self {
        case .unreadable(let f, _), .empty(let f), .unsupportedFormat(let f, _), .notAnImage(let f, _),
            .truncated(let f, _, _), .corrupt(let f, _, _), .unsupportedImage(let f, _):
            f
        }
    }

    public var problem: String {
        switch self {
        case .unreadable(_, let reason): "cannot read image file: \(reason)"
        case .empty: "empty file, not an image"
        case .unsupportedFormat(_, let format): "\(format) images are not supported (JPEG and PNG are)"
        case .notAnImage(_, let start): "not a JPEG or PNG image (file starts with \(start))"
        case .truncated(_, let format, let detail): "truncated \(format) (\(detail))"
        case .corrupt(_, let format, let detail): "corrupt \(format): \(detail)"
        case .unsupportedImage(_, let detail): "unsupported image: \(detail)"
        }
    }

    public var description: String { "\(file): \(problem)" }
}
