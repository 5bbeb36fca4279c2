/// The candidate a mistyped word most probably meant (a command, an option): within a third of
/// the word's length in edits (at most 3), the nearest, the first in order on a tie; nil for a
/// word of 3 characters or fewer (`-v` is as near to `-h` as to anything).
public func closestName(to word: String, among candidates: some Sequence<String>) -> String? {
    guard word.count > 3 else { return nil }
    let limit = max(1, min(3, word.count / 3))
    var best: (name: String, distance: Int)?
    for candidate in candidates.sorted() {
        let distance = editDistance(word, candidate)
        if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    return best?.name
}

/// Levenshtein distance, over characters; command lines are short.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
