// libFuzzer target: the NPZ (ZIP + deflate + .npy) reader on arbitrary bytes (built by tools/fuzz.sh, not by
// SwiftPM). Every input must either decode or throw an error; a trap, an ASan report or a leak is a finding.
import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? NPZ.read(bytes: bytes)
    return 0
}
