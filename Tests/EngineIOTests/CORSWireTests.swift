//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import Testing

struct CORSWireTests {
    private func harness(_ cors: CORSConfiguration) -> WireHarness {
        WireHarness(configuration: EngineIOConfiguration(path: "/engine.io/", cors: cors))
    }

    @Test func sameOriginIsTheDefaultAndRefusesOtherOrigins() throws {
        let harness = WireHarness(configuration: EngineIOConfiguration(path: "/engine.io/"))
        let connection = try harness.connect()
        let same = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "http://localhost"])
        )
        #expect(same.status == 200)
        #expect(same.header("Access-Control-Allow-Origin") == "http://localhost")
        #expect(same.header("Access-Control-Allow-Credentials") == "true")
        let foreign = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "https://evil.example"])
        )
        #expect(foreign.status == 400)
        #expect(foreign.body == #"{"code":3,"message":"Not an accepted origin"}"#)
        // Non-browser clients send no Origin and are served.
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling")?.status == 200)
    }

    @Test func listAcceptsOnlyListedOrigins() throws {
        let harness = self.harness(.list(["https://app.example/"]))
        let connection = try harness.connect()
        let ok = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "https://app.example"])
        )
        #expect(ok.status == 200)
        #expect(ok.header("Access-Control-Allow-Origin") == "https://app.example")
        let refused = try connection.request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "https://other.example"])
        #expect(refused?.status == 400)
    }

    @Test func anyEchoesTheOriginAndCredentialsCanBeTurnedOff() throws {
        let harness = self.harness(CORSConfiguration.any.allowingCredentials(false))
        let response = try #require(
            try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "https://x.example"])
        )
        #expect(response.header("Access-Control-Allow-Origin") == "https://x.example")
        #expect(response.header("Access-Control-Allow-Credentials") == nil)
    }

    @Test func preflightIsAnswered() throws {
        let harness = self.harness(.any)
        let response = try #require(
            try harness.connect().request(
                "OPTIONS",
                "/engine.io/?EIO=4&transport=polling",
                headers: ["Origin": "https://x.example", "Access-Control-Request-Headers": "content-type"]
            )
        )
        #expect(response.status == 204)
        #expect(response.header("Access-Control-Allow-Origin") == "https://x.example")
        #expect(response.header("Access-Control-Allow-Methods") == "OPTIONS, GET, POST")
        #expect(response.header("Access-Control-Allow-Headers") == "content-type")
    }

    @Test func disabledAddsNothingAndChecksNothing() throws {
        let harness = self.harness(.disabled)
        let response = try #require(
            try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["Origin": "https://x.example"])
        )
        #expect(response.status == 200)
        #expect(response.header("Access-Control-Allow-Origin") == nil)
    }
}
