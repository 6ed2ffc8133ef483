/// The built-in TCP load balancer.
public enum LoadBalancerModule {}
