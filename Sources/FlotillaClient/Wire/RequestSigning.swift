public import Foundation
public import SigV4
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

extension URLRequest {
    /// Signs this request with AWS Signature Version 4 for `service` in `region`, at `date`: adds `Authorization`,
    /// `X-Amz-Date` (and `X-Amz-Security-Token` for session credentials), covering the method, path, query,
    /// `Host` (as URLSession will send it: the URL's host and any port), every header set so far and the body.
    ///
    /// Sign last: a header or body byte changed afterwards makes the control plane refuse the signature.
    public mutating func sign(
        with credentials: AWSCredentials, region: String, service: String = "ecs", at date: Date = Date()
    ) {
        guard let url, let host = url.host else { return }
        let authority = url.port.map { "\(host.contains(":") ? "[\(host)]" : host):\($0)" } ?? host
        var headers = (allHTTPHeaderFields ?? [:]).map { (name: $0.key, value: $0.value) }
        headers.append((name: "Host", value: authority))
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? "/"
        let request = SigV4Request(
            method: httpMethod ?? "GET", path: path.isEmpty ? "/" : path, query: components?.percentEncodedQuery ?? "",
            headers: headers, body: Array(httpBody ?? Data()))
        for (name, value) in SigV4Signer(credentials: credentials, region: region, service: service)
            .sign(request, at: date)
        {
            setValue(value, forHTTPHeaderField: name)
        }
    }
}
