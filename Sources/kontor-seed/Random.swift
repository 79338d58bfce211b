/// The demo's random numbers: fixed-seed and reproducible on every platform.
///
/// `SplitMix64` spreads a 64-bit seed (and derives independent streams from names),
/// `Xoshiro256` (xoshiro256**) draws the numbers. Neither touches the system's generator,
/// so one seed gives the same demo everywhere, run after run.

/// SplitMix64: a tiny generator used to seed xoshiro and to mix labels into seeds.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256**: the generator every draw of the demo goes through.
struct Xoshiro256: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose state is spread from `seed` by SplitMix64.
    init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Xoshiro256.rotl(s.3, 45)
        return result
    }
}

/// Draws for the generator: ranges, picks, weights and chances, all from one stream.
///
/// `fork(_:)` gives an independent stream for a named part of the demo (the people, the
/// calls of one month...), so adding draws to one part never shifts another.
struct Dice {
    private var rng: Xoshiro256
    /// The seed this stream was made from.
    let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        rng = Xoshiro256(seed: seed)
    }

    /// An independent stream named `label` (derived from this stream's seed, not its state).
    func fork(_ label: String) -> Dice {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        var sm = SplitMix64(seed: seed ^ h)
        return Dice(seed: sm.next())
    }

    mutating func next() -> UInt64 { rng.next() }

    /// A whole number in `range` (both ends included), without modulo bias.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }
        let limit = UInt64.max - (UInt64.max % span)
        var x = next()
        while x >= limit { x = next() }
        return range.lowerBound + Int(x % span)
    }

    /// A number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// One element (the collection must not be empty).
    mutating func pick<C: Collection>(_ c: C) -> C.Element where C.Index == Int {
        c[c.startIndex + int(0...(c.count - 1))]
    }

    /// An index chosen with the given weights (all ≥ 0, at least one > 0).
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }

    /// `n` digits as text (leading zeros kept).
    mutating func digits(_ n: Int) -> String {
        String((0..<n).map { _ in Character(String(int(0...9))) })
    }

    /// The elements in a random order (Fisher–Yates).
    mutating func shuffled<T>(_ a: [T]) -> [T] {
        var a = a
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(0...i)
            a.swapAt(i, j)
        }
        return a
    }
}
