public import Hummingbird
public import Logging
import HTTPServerLimits
import NIOCore
public import NIOSSL

/// Builds the control plane's HTTP application: the ECS API on `POST /`, `/healthz` (liveness), `/readyz` (the
/// store takes writes) and `/metrics`.
public enum ControlPlaneApplication {
    /// The router: `POST /` speaks ECS, `GET /healthz` answers when the store answers, `GET /metrics` renders
    /// whatever `metrics` writes (the executable passes swift-prometheus' registry).
    public static func router(api: ECSAPI, metrics: (@Sendable () -> [UInt8])? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, context in
            await api.respond(to: request, logger: context.logger)
        }
        router.get("/healthz") { _, _ -> Response in
            do {
                try await api.store.ping()
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            } catch {
                return Response(
                    status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "store unavailable\n")))
            }
        }
        // Readiness, unlike liveness above: can the store take a write now (space, mount, corruption)?
        router.get("/readyz") { _, _ -> Response in
            guard let problem = await api.store.health.problem(of: api.store) else {
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            }
            return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: problem + "\n")))
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                PrometheusExposition.response(metrics())
            }
        }
        return router
    }

    /// The application serving `router(api:metrics:)` on the configured address; run it in a `ServiceGroup`.
    /// With `tls` (`ServerTLS.context`) it speaks HTTPS only.
    public static func make(
        api: ECSAPI, metrics: (@Sendable () -> [UInt8])? = nil, tls: NIOSSLContext? = nil,
        logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(api: api, metrics: metrics),
            server: .http1(limits: api.configuration.limits, server: "control-plane", tls: tls, logger: logger),
            configuration: .init(
                address: .hostname(api.configuration.host, port: api.configuration.port),
                serverName: "flotilla-control-plane"),
            logger: logger
        )
    }
}
