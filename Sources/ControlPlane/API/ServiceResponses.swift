import TaskDefinitions

// MARK: - Responses (the requests are ECSProtocol's)

struct ServiceResponse: Encodable { var service: ECSService }

struct DescribeServicesResponse: Encodable {
    var services: [ECSService]
    var failures: [Failure]
}

struct ListServicesResponse: Encodable {
    var serviceArns: [String]
    var nextToken: String?
}
