import Testing
@testable import Gateway

@Suite("Gateway settings and DICOM identifiers")
struct GatewaySettingsTests {
    @Test func instancesMustGoWhereTheDaemonMayReadThem() throws {
        var settings = GatewaySettings.standard
        #expect(throws: GatewayError.self) { try settings.validate(allowedRoots: []) }
        try settings.validate(allowedRoots: ["/var/lib/radstream/images"])
        #expect(settings.resolvedImageRoot(allowedRoots: ["/var/lib/radstream/images"]) == "/var/lib/radstream/images")
        settings.imageRoot = "/tmp/elsewhere"
        #expect { try settings.validate(allowedRoots: ["/var/lib/radstream/images"]) } throws: {
            "\($0)".contains("is not one of images.allowedRoots")
        }
        settings.imageRoot = "/var/lib/radstream/images/"
        try settings.validate(allowedRoots: ["/var/lib/radstream/images"])
    }

    @Test func badListenerSettingsAreRefusedByTheirKey() {
        for (change, key) in [({ (s: inout GatewaySettings) in s.dicom.aeTitle = "A_TITLE_LONGER_THAN_16" }, "gateway.dicom.aeTitle"),
                              ({ (s: inout GatewaySettings) in s.dicom.port = 0 }, "gateway.dicom.port"),
                              ({ (s: inout GatewaySettings) in s.hl7.maxMessageBytes = 10 }, "gateway.hl7.maxMessageBytes"),
                              ({ (s: inout GatewaySettings) in s.hl7.maxConnections = 0 }, "gateway.hl7.maxConnections"),
                              ({ (s: inout GatewaySettings) in s.dicom.enabled = false; s.hl7.enabled = false }, "neither")] {
            var settings = GatewaySettings.standard
            change(&settings)
            #expect { try settings.validate(allowedRoots: ["/images"]) } throws: { "\($0)".contains(key) }
        }
    }

    @Test func aUIDIsDigitsAndDotsNeverAPath() {
        #expect(ReceivedInstance.isUID("1.2.840.10008.5.1.4.1.1.7"))
        #expect(ReceivedInstance.isUID("1.2.03"))  // leading zeros, which some modalities write
        for bad in ["", "1..2", ".1", "1.", "../../etc", "1.2/3", "1.2.a", String(repeating: "1", count: 65)] {
            #expect(!ReceivedInstance.isUID(bad), "\(bad)")
        }
    }
}
