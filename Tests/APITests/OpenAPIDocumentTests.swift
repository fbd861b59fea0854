import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import API

/// The checked-in `Docs/openapi.json`, the served document and the router agree.
@Suite(.serialized) struct OpenAPIDocumentTests {
    static let checkedIn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/openapi.json")

    @Test func theCheckedInDocumentIsTheGeneratedOne() throws {
        let file = try Data(contentsOf: Self.checkedIn)
        #expect(Array(file) == (try OpenAPIDocument.json()), "Docs/openapi.json is stale: run `swift run souk openapi --output Docs/openapi.json`")
    }

    @Test func everyDocumentedOperationIsRoutedAndNothingElseIs() async throws {
        let rig = try await APITestRig()
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.checkedIn)) as! [String: Any]
        let paths = (document["paths"] as! [String: [String: Any]]).map { ($0.key, Set($0.value.keys)) }
        try await rig.test { client in
            let served = try await client.send(.get, "/openapi.json")
            #expect(served.status == .ok)
            #expect(Array(served.body.utf8) == (try OpenAPIDocument.json()))
            for (path, operations) in paths.sorted(by: { $0.0 < $1.0 }) {
                // Path parameters filled with a plausible id.
                let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "x1", options: .regularExpression)
                for method in ["get", "post", "put", "delete"] {
                    let result = try await client.send(HTTPRequest.Method(rawValue: method.uppercased())!, concrete, headers: rig.system, body: "{}")
                    if operations.contains(method) {
                        #expect(result.problemType != "no-route", "\(method) \(path) is documented but not routed")
                    } else {
                        #expect(result.problemType == "no-route" || result.status == .methodNotAllowed, "\(method) \(path) is routed but not documented")
                    }
                }
            }
        }
    }
}
