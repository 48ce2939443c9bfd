// libFuzzer target: the JPEG (libjpeg-turbo) and PNG (libpng) decoders behind RGBImage(decoding:), including
// effnet's size checks, colour conversions and setjmp error shims (built by tools/fuzz.sh, not by SwiftPM).
// Every input must either decode or throw an error; a trap, an ASan report or a leak is a finding.
import Imaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? RGBImage(decoding: bytes, file: "fuzz.img")
    return 0
}
