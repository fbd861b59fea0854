import API
import ArgumentParser
import Foundation

struct OpenAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the HTTP API's OpenAPI 3.1 document (the same one `souk run --role api` serves at /openapi.json).",
        discussion: """
            Examples:
              souk openapi --output Docs/openapi.json     # refresh the checked-in copy after changing a route
              souk openapi | jq '.paths | keys'
            """
    )

    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        let json = try OpenAPIDocument.json()
        if let output {
            try Data(json).write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(Data(json))
        }
    }
}
