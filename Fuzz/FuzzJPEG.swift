// libFuzzer target: the JPEG decoder (libjpeg-turbo behind effnet's size checks, colour conversions and setjmp error
// shim) and the EXIF orientation reader, on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM). The decoder is
// called directly, past the signature check, so every input reaches libjpeg-turbo. Every input must either decode or
// throw an error; a trap, an ASan report or a leak is a finding.
@testable import Imaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let image = try? JPEGDecoder.decode(bytes, file: "fuzz.jpeg") {
        _ = image.oriented(EXIFOrientation.read(bytes))
    }
    return 0
}
