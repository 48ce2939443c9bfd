import Foundation
import IR

/// Class names for classification: a `--labels` file, or the bundled ImageNet-1k names for a model with 1000 outputs (1001:
/// TensorFlow's layout with "background" first).
package enum Labels {
    package struct LabelsError: Error, CustomStringConvertible {
        package var path: String
        package var problem: String
        package var description: String { "\(path): \(problem)" }
    }

    /// Largest labels file read (the ImageNet-21k names are about 1 MB).
    static let maxBytes = 64 << 20

    /// Reads class names from `path`: a JSON list of names, a JSON map from index to name (the ONNX model zoo's
    /// `{"0": "tench, Tinca tinca"}`) or to `[WordNet ID, name]` (Keras's `{"0": ["n01440764", "tench"]}`), or
    /// text with one name per line (trailing empty lines dropped).
    package static func read(_ path: String) throws -> [String] {
        // A regular file only (a FIFO would block), of a size a label list can have.
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.readAll(path, limit: maxBytes)
        } catch {
            throw LabelsError(path: path, problem: "cannot read the labels file: \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LabelsError(path: path, problem: "the labels file is not UTF-8 text")
        }
        let data = Data(bytes)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("[") || trimmed.hasPrefix("{") {
            guard let json = try? JSONSerialization.jsonObject(with: data) else {
                throw LabelsError(path: path, problem: "labels file starts like JSON but is not valid JSON")
            }
            return try fromJSON(json, path: path)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw LabelsError(path: path, problem: "labels file holds no names") }
        return lines
    }

    static func fromJSON(_ json: Any, path: String) throws -> [String] {
        if let list = json as? [Any] {
            return try list.enumerated().map { k, v in
                guard let name = v as? String else {
                    throw LabelsError(path: path, problem: "entry \(k) of the JSON list is not a string")
                }
                return name
            }
        }
        guard let map = json as? [String: Any], !map.isEmpty else {
            throw LabelsError(path: path, problem: "JSON labels must be a list or a map from class index to name")
        }
        var names = [String?](repeating: nil, count: map.count)
        for (key, value) in map {
            guard let k = Int(key), k >= 0, k < map.count else {
                throw LabelsError(
                    path: path, problem: "key '\(key)' is not a class index from 0 to \(map.count - 1)")
            }
            if let name = value as? String {
                names[k] = name
            } else if let pair = value as? [Any], pair.count == 2, pair[0] is String, let name = pair[1] as? String {
                names[k] = name
            } else {
                throw LabelsError(
                    path: path, problem: "class \(key) is neither a name nor a [WordNet ID, name] pair")
            }
        }
        return names.map { $0! }  // every index 0..<count was set once: keys are distinct and in range
    }

    /// The names for a model with `classes` outputs: `file`'s (which must have that many), else the bundled
    /// ImageNet-1k names for 1000 or 1001 classes, else none.
    package static func forModel(classes: Int, file: (path: String, names: [String])?) throws -> [String]? {
        if let file {
            guard file.names.count == classes else {
                throw LabelsError(
                    path: file.path, problem: "\(file.names.count) labels for a model with \(classes) classes")
            }
            return file.names
        }
        switch classes {
        case 1000: return ImageNetClasses.names
        case 1001: return ["background"] + ImageNetClasses.names
        default: return nil
        }
    }
}
