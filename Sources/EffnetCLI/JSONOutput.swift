import Foundation

/// Writes one JSON document on stdout (and nothing else there): keys sorted so that output is stable and
/// diffable, slashes unescaped so value names stay readable.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

/// Human-readable report lines: printed on stdout, or not at all when `--json` owns stdout.
struct Console {
    let json: Bool

    func line(_ text: String = "") {
        if !json { Swift.print(text) }
    }
}
