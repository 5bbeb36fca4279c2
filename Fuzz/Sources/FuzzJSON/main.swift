import CFuzzerDriver
import Glibc
import Vocabulary

// Bytes as any JSON body a server sends (status, login, Engine answers, metadata). What is
// refused names an offset inside the input; what parses is written by `text` as JSON that
// reads back as the same value (an integral Double may come back as an integer).
private func fuzzJSON(_ input: UnsafeBufferPointer<UInt8>) {
    do {
        let value = try JSONValue(parsing: input)
        let again = try JSONValue(parsing: value.bytes)
        precondition(same(value, again), "\(value.text) does not read back")
    } catch {
        precondition((0...input.count).contains(error.offset), "offset \(error.offset) outside \(input.count) bytes")
        _ = error.description
    }
}

private func same(_ left: JSONValue, _ right: JSONValue) -> Bool {
    switch (left, right) {
    case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): return Double(a) == b
    case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy(same)
    case (.object(let a), .object(let b)):
        return a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
    default: return left == right
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzJSON(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
