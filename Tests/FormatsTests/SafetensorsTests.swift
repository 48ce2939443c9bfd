import Foundation
import IR
import Testing

@testable import Formats

/// safetensors: what is written reads back bit for bit, and every way a header can lie is refused with a
/// `WeightFileError` before a byte of data is copied.
@Suite struct SafetensorsTests {
    static func sample() -> [NamedTensor] {
        sampleArrays().filter { Safetensors.dtypes.values.contains($0.tensor.dtype) }
            + [NamedTensor(name: "bf16", tensor: Tensor(dtype: .bfloat16, shape: [3], values: [1, -0.5, 384]))]
    }

    /// Builds a file from a literal header and data bytes.
    static func file(header: String, data: [UInt8], length: UInt64? = nil) -> [UInt8] {
        var out = [UInt8]()
        let h = Array(header.utf8)
        out.appendLE(length ?? UInt64(h.count))
        return out + h + data
    }

    @Test func roundTripKeepsNamesDTypesShapesAndBytes() throws {
        let arrays = Self.sample()
        let bytes = try Safetensors.encode(arrays, metadata: ["format": "pt"])
        let headerLength = bytes.withUnsafeBytes { Int($0.u64(0)) }
        #expect(headerLength % 8 == 0)
        #expect(try Safetensors.decode(bytes: bytes) == arrays)
    }

    @Test func fileIsRecognisedByContent() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("weights.bin").path
        try Safetensors.write(Self.sample(), to: path)
        #expect(try ModelFileKind.detect(path: path) == .safetensors)
        #expect(try Safetensors.read(contentsOf: path) == Self.sample())
    }

    @Test func halfAndDoubleWidenExactlyToFloat() throws {
        let data: [UInt8] = [0x00, 0x3c, 0x00, 0xc0]  // F16 1.0, -2.0
        let t = try Safetensors.decode(
            bytes: Self.file(header: #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: data))
        #expect(t[0].tensor.dtype == .float16)
        #expect(t[0].tensor.converted(to: .float32).floats == [1, -2])
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}"#, "ends at data byte 12"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "span 8 bytes"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#, "no valid shape"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "no valid data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, "no valid shape"),
        (#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, "dtype F8_E4M3"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, "overlap"),
        (#"{"a":{"dtype":"F32","shape":[4503599627370496,4503599627370496],"data_offsets":[0,8]}}"#, "span 8 bytes"),
        (#"["a"]"#, "not a JSON object"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#, "not a JSON object"),
    ])
    func lyingHeadersAreRefused(header: String, expected: String) throws {
        let bytes = Self.file(header: header, data: [UInt8](repeating: 0, count: 8))
        do {
            _ = try Safetensors.decode(bytes: bytes, file: "m.safetensors")
            Issue.record("accepted \(header)")
        } catch let error as WeightFileError {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("m.safetensors: "))
        }
    }

    @Test func headerLengthPastTheFileOrLimitIsRefused() throws {
        for length: UInt64 in [1000, UInt64.max, 200_000_000] {
            let bytes = Self.file(header: "{}", data: [], length: length)
            #expect(throws: WeightFileError.self) { try Safetensors.decode(bytes: bytes) }
        }
        #expect(throws: WeightFileError.self) { try Safetensors.decode(bytes: [1, 2, 3]) }
    }

    /// Every truncation of a valid file is refused, never read past its end.
    @Test func everyTruncationIsRefused() throws {
        let bytes = try Safetensors.encode(Self.sample())
        for n in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: WeightFileError.self) { try Safetensors.decode(bytes: Array(bytes[0..<n])) }
        }
    }
}
