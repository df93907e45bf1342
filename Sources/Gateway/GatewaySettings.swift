/// How the gateway listens and where it keeps what it accepts (the `gateway` section of the
/// configuration; the Kafka and image settings are the daemon's own).
public struct GatewaySettings: Codable, Sendable, Equatable {
    public struct DICOM: Codable, Sendable, Equatable {
        public var enabled: Bool
        /// The AE title senders must call (the called AE title), at most 16 characters.
        public var aeTitle: String
        public var port: Int
        /// The calling AE titles accepted; empty: any sender that calls the right AE title.
        public var acceptedCallingAETitles: [String]
        /// Associations served at once; one more is refused as "local limit exceeded".
        public var maxAssociations: Int
        /// A peer silent this long during an association loses it.
        public var timeoutSeconds: Int
    }

    public struct HL7: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var host: String
        public var port: Int
        /// A message larger than this is refused (AR) and the connection closed.
        public var maxMessageBytes: Int
        /// A connection silent this long is closed (the RIS reconnects).
        public var idleSeconds: Int
        /// Connections served at once (a thread each); one more is closed as soon as it is accepted.
        public var maxConnections: Int
    }

    /// `/healthz` and `/metrics` (Prometheus); port 0 lets the system choose (printed).
    public struct HTTP: Codable, Sendable, Equatable {
        public var host: String
        public var port: Int
    }

    /// Where instances are written, as `<imageRoot>/<study>/<series>/<instance>.dcm`; must be one
    /// of `images.allowedRoots`, so that the daemon may read what the events name. Empty: the
    /// first allowed root.
    public var imageRoot: String
    /// How long a sender waits at most for Kafka to acknowledge its event before it is answered
    /// with a failure (librdkafka's `message.timeout.ms` for the gateway's producer).
    public var acknowledgementSeconds: Int
    public var dicom: DICOM
    public var hl7: HL7
    public var http: HTTP

    public static let standard = GatewaySettings(
        imageRoot: "", acknowledgementSeconds: 10,
        dicom: DICOM(enabled: true, aeTitle: "RADSTREAM", port: 11112, acceptedCallingAETitles: [], maxAssociations: 8, timeoutSeconds: 30),
        hl7: HL7(enabled: true, host: "0.0.0.0", port: 2575, maxMessageBytes: 1 << 20, idleSeconds: 600, maxConnections: 32),
        http: HTTP(host: "127.0.0.1", port: 8081))

    /// Refuses what cannot work, with the key to mend.
    public func validate(allowedRoots: [String]) throws(GatewayError) {
        guard dicom.enabled || hl7.enabled else { throw GatewayError("gateway: neither gateway.dicom nor gateway.hl7 is enabled") }
        if dicom.enabled {
            guard (1...16).contains(dicom.aeTitle.count), dicom.aeTitle.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline }) else {
                throw GatewayError("gateway.dicom.aeTitle must have 1 to 16 ASCII characters")
            }
            guard (1...65535).contains(dicom.port) else { throw GatewayError("gateway.dicom.port must be in 1...65535") }
            guard (1...1000).contains(dicom.maxAssociations) else { throw GatewayError("gateway.dicom.maxAssociations must be in 1...1000") }
            guard dicom.timeoutSeconds > 0 else { throw GatewayError("gateway.dicom.timeoutSeconds must be positive") }
            let root = imageRoot.isEmpty ? allowedRoots.first : imageRoot
            guard let root else {
                throw GatewayError("gateway.imageRoot is empty and images.allowedRoots has no root: the gateway has nowhere to write instances")
            }
            guard allowedRoots.contains(where: { Self.sameDirectory($0, root) }) else {
                throw GatewayError("gateway.imageRoot \(root) is not one of images.allowedRoots (\(allowedRoots.joined(separator: ", "))): the daemon could not read its instances")
            }
        }
        if hl7.enabled {
            guard (0...65535).contains(hl7.port) else { throw GatewayError("gateway.hl7.port must be in 0...65535") }
            guard hl7.maxMessageBytes >= 1024 else { throw GatewayError("gateway.hl7.maxMessageBytes must be at least 1024") }
            guard hl7.idleSeconds > 0 else { throw GatewayError("gateway.hl7.idleSeconds must be positive") }
            guard (1...1000).contains(hl7.maxConnections) else { throw GatewayError("gateway.hl7.maxConnections must be in 1...1000") }
        }
        guard (0...65535).contains(http.port) else { throw GatewayError("gateway.http.port must be in 0...65535") }
        guard acknowledgementSeconds > 0 else { throw GatewayError("gateway.acknowledgementSeconds must be positive") }
    }

    /// The folder instances go to.
    public func resolvedImageRoot(allowedRoots: [String]) -> String {
        imageRoot.isEmpty ? (allowedRoots.first ?? "") : imageRoot
    }

    private static func sameDirectory(_ a: String, _ b: String) -> Bool {
        func clean(_ path: String) -> String { path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path }
        return clean(a) == clean(b)
    }
}

/// Why the gateway cannot start or cannot take something.
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
