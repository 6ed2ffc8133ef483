/// The input of `TagResource`.
public struct TagResourceRequest: ECSRequest, Decodable {
    public var resourceArn: String
    public var tags: [ResourceTag]
}

/// The input of `UntagResource`.
public struct UntagResourceRequest: ECSRequest, Decodable {
    public var resourceArn: String
    public var tagKeys: [String]
}

/// The input of `ListTagsForResource`.
public struct ListTagsForResourceRequest: ECSRequest, Decodable { public var resourceArn: String }

extension TagResourceRequest {
    public func validate() throws(ECSError) { try TagRules.check(tags) }
}

extension UntagResourceRequest {
    public func validate() throws(ECSError) {
        guard tagKeys.count <= TagRules.maxTagsPerResource else {
            throw ECSError.invalidParameter(
                "tagKeys: at most \(TagRules.maxTagsPerResource) keys, got \(tagKeys.count).")
        }
    }
}
