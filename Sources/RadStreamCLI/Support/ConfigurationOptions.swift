import ArgumentParser
import Foundation
import Pipeline

/// `--config`, shared by the commands that talk to Kafka or PostgreSQL.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("config"),
            help: "Configuration file (JSON). Default: config/radstream.json when it exists. RADSTREAM_* variables override it.")
    var path: String?

    func load() throws -> RadStreamConfiguration {
        if let path { return try RadStreamConfiguration.load(file: URL(filePath: path)) }
        let standard = URL(filePath: "config/radstream.json")
        return try RadStreamConfiguration.load(file: FileManager.default.fileExists(atPath: standard.path) ? standard : nil)
    }
}
