//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

package import HTTPTypes
package import NIOHTTP1

// The engine speaks swift-http-types; the standalone listener's NIO HTTP/1 parts are
// converted at its edge (request headers once per request, answer headers once per answer).

extension HTTPFields {
    /// The fields of a NIO header block, in order. A name NIO accepted is a valid token, so
    /// nothing is dropped in practice; an invalid one is skipped.
    package init(_ headers: HTTPHeaders) {
        self.init()
        self.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { continue }
            self.append(HTTPField(name: name, value: value))
        }
    }

    /// The first value of the field `name` (NIO's `first(name:)`).
    package func first(_ name: HTTPField.Name) -> String? {
        self.first { $0.name == name }?.value
    }

    /// Every comma-separated element of every field `name`, trimmed of spaces and tabs
    /// (NIO's `subscript(canonicalForm:)`, kept so that parsing stays as it was).
    package func commaSeparated(_ name: HTTPField.Name) -> [Substring] {
        var result: [Substring] = []
        for field in self where field.name == name {
            for element in field.value.split(separator: ",") {
                result.append(element.trimmingSpacesAndTabs)
            }
        }
        return result
    }

    /// Adds `name: value` (a name of the engine's own answers, known to be valid).
    mutating func add(_ name: HTTPField.Name, _ value: String) {
        self.append(HTTPField(name: name, value: value))
    }
}

extension HTTPHeaders {
    /// A NIO header block with the fields' names as written and their values, in order.
    package init(_ fields: HTTPFields) {
        self.init()
        self.reserveCapacity(fields.count)
        for field in fields {
            self.add(name: field.name.rawName, value: field.value)
        }
    }
}


extension Substring {
    fileprivate var trimmingSpacesAndTabs: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

extension HTTPField.Name {
    // Names HTTPTypes does not predefine; valid tokens, so the force unwraps cannot fail.
    package static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    package static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    package static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    /// HTTPTypes marks `.host` unavailable (HTTP/2 carries it as `:authority`); an HTTP/1
    /// request still has it as a field, which same-origin checks read.
    package static let hostField = HTTPField.Name("Host")!
}
