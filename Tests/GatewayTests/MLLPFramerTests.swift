import Testing
@testable import Gateway

@Suite("MLLP framing")
struct MLLPFramerTests {
    @Test func framesSplitAnywhereAreJoinedAndNoiseBetweenThemIsSkipped() throws {
        let stream = Array("noise".utf8) + MLLPFramer.frame("MSH|first\r") + [0x0A] + MLLPFramer.frame("MSH|second\r")
        for cut in 0...stream.count {
            var framer = MLLPFramer(maxMessageBytes: 1024)
            let messages = try framer.feed(stream[..<cut]) + framer.feed(stream[cut...])
            #expect(messages.map { String(decoding: $0, as: UTF8.self) } == ["MSH|first\r", "MSH|second\r"], "cut at \(cut)")
        }
    }

    @Test func aFileSeparatorInsideAMessageIsNotItsEnd() throws {
        var framer = MLLPFramer(maxMessageBytes: 1024)
        let messages = try framer.feed([MLLPFramer.start, 0x41, MLLPFramer.end, 0x42, MLLPFramer.end, MLLPFramer.carriageReturn])
        #expect(messages == [[0x41, MLLPFramer.end, 0x42]])
    }

    @Test func aMessageLargerThanTheBoundIsAnError() {
        var framer = MLLPFramer(maxMessageBytes: 1024)
        #expect(throws: MLLPFramer.Failure.tooLarge(1024)) {
            try framer.feed(MLLPFramer.frame(String(repeating: "x", count: 2000)))
        }
    }
}
