/// An IPv4 subnet in CIDR form, and the address arithmetic the lease table needs.
struct IPv4Subnet: Hashable, Sendable, CustomStringConvertible {
    let network: UInt32
    let prefixLength: Int

    /// Parses "a.b.c.d/n"; the address must be the network address and n between 8 and 30.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Subnet.parseAddress(String(parts[0])),
            let length = Int(parts[1]), (8...30).contains(length)
        else { return nil }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
        guard address & mask == address else { return nil }
        self.network = address
        self.prefixLength = length
    }

    var description: String { "\(IPv4Subnet.format(network))/\(prefixLength)" }

    /// The first host address: the bridge's own address and every namespace's gateway.
    var gateway: UInt32 { network + 1 }

    /// The addresses namespaces may lease: after the gateway, before the broadcast address.
    var leasable: ClosedRange<UInt32> { (network + 2)...(network + (UInt32(1) << (32 - UInt32(prefixLength))) - 2) }

    static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }
}
