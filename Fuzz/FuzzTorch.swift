// libFuzzer target: the PyTorch checkpoint reader (zip archives and legacy pickle files, both through the
// restricted unpickler) on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM). Every input must either
// decode or throw an error; a trap, an ASan report or a leak is a finding.
import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorch(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? TorchCheckpoint.decode(bytes: bytes, file: "fuzz.pth")
    return 0
}
