//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import SocketIOParser
import Testing

struct JSONTests {
    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":"x"}"#,
        #"[1,-2,3.5,1e+21,1e-7,"\"q\"\\\n\t\u0001","héllo ☃ 😀"]"#,
        #"{}"#, #"[]"#, #""""#, #"0"#, #"-0.5"#,
    ])
    func roundTripsExactly(_ text: String) throws {
        #expect(try JSONParser.parse(text).jsonString == text)
    }

    @Test func keepsIntegersAndDoublesApart() throws {
        #expect(try JSONParser.parse("[1,1.0,1.5,12345678901234567890]") == [1, 1.0, 1.5, 1.2345678901234567e19])
    }

    @Test func writesNumbersLikeJavaScript() {
        #expect(SocketIOValue.double(2.0).jsonString == "2")
        #expect(SocketIOValue.double(-0.0).jsonString == "0")
        #expect(SocketIOValue.double(0.1).jsonString == "0.1")
        #expect(SocketIOValue.double(1e-7).jsonString == "1e-7")
        #expect(SocketIOValue.double(1e21).jsonString == "1e+21")
        #expect(SocketIOValue.double(1e20).jsonString == "100000000000000000000")
        #expect(SocketIOValue.double(.nan).jsonString == "null")
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude00\/\b""#) == "é😀/\u{08}")
        #expect(try JSONParser.parse(#""\ud83d""#) == "\u{FFFD}")
    }

    @Test(arguments: ["", "[", "{\"a\"}", "[1,]", "01", "1.", "tru", "\"\u{01}\"", "[1] x", "{'a':1}", "\"\\x\"", "-"])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONParser.parse(fine)) != nil)
    }
}
