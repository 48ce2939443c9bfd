// libFuzzer target: the ONNX reader on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM).
// Every input must either parse or throw an error; a trap, an ASan report or a leak is a finding.
@testable import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // External data resolves against a folder that does not exist: only the in-file paths are exercised.
    _ = try? ONNXReader.read(bytes: bytes, file: "fuzz.onnx", folder: "/nonexistent-effnet-fuzz")
    return 0
}
