// libFuzzer target: the safetensors reader on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM).
// Every input must either decode or throw an error; a trap, an ASan report or a leak is a finding.
import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Safetensors.decode(bytes: bytes, file: "fuzz.safetensors")
    return 0
}
