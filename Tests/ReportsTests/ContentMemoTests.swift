import Testing
import Reports

@Suite("Content memo")
struct ContentMemoTests {
    @Test func aMemoKeepsWhatWasUsedLatelyAndStaysBounded() {
        let memo = ContentMemo<Int, String>(capacity: 2)
        memo.store("a", for: 1)
        memo.store("b", for: 2)
        memo.store("c", for: 3)  // the newer generation was full: 1 and 2 become the older
        #expect(memo[1] == "a")  // used: back in the newer generation, beside 3
        memo.store("d", for: 4)  // full again: 3 and 1 become the older, 2 is forgotten
        #expect(memo[2] == nil && memo[3] == "c" && memo[1] == "a" && memo[4] == "d")
        #expect(memo.count <= 4)
        memo.store("A", for: 1)
        #expect(memo[1] == "A")
    }
}
