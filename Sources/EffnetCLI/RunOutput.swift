import ArgumentParser
import Formats
import Foundation

/// Writes `run`'s results as they come, in input order: to stdout, or to `--output FILE` through a temporary file
/// renamed into place by `finish()` (an error before then leaves nothing at FILE).
final class RunOutput {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, jsonl, csv
    }

    let format: Format
    private let file: AtomicFileWriter?
    private var count = 0
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()

    init(format: Format, path: String?) throws {
        self.format = format
        file = try path.map { try AtomicFileWriter(path: $0) }
    }

    private func emit(_ text: String) throws {
        if let file { try file.write(Array(text.utf8)) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    func write(_ image: RunResult.Image) throws {
        defer { count += 1 }
        switch format {
        case .text:
            var lines = image.image + "\n"
            for c in image.top {
                let index = String(c.index)
                let padded = String(repeating: " ", count: max(0, 5 - index.count)) + index
                lines +=
                    "  \(padded)  \(String(format: "%.4f", c.probability))" + (c.label.map { "  " + $0 } ?? "") + "\n"
            }
            try emit(lines)
        case .json:
            try emit((count == 0 ? "{\"results\": [\n  " : ",\n  ") + json(image))
        case .jsonl:
            try emit(json(image) + "\n")
        case .csv:
            var rows = count == 0 ? "image,rank,index,label,probability\n" : ""
            for (rank, c) in image.top.enumerated() {
                rows += "\(Self.csv(image.image)),\(rank + 1),\(c.index),\(Self.csv(c.label ?? "")),\(c.probability)\n"
            }
            try emit(rows)
        }
    }

    /// Ends the document (JSON's closing brackets, CSV's header when nothing was written) and commits the file.
    func finish() throws {
        switch format {
        case .json: try emit(count == 0 ? "{\"results\": []}\n" : "\n]}\n")
        case .csv where count == 0: try emit("image,rank,index,label,probability\n")
        default: break
        }
        try file?.commit()
    }

    private func json(_ image: RunResult.Image) throws -> String {
        String(decoding: try encoder.encode(image), as: UTF8.self)
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
    static func csv(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
