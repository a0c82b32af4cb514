//! `sidra.v1.Srv6Service` and `sidra.v1.NodeService`: declared in the API, not served yet (the
//! SRv6 service and the node's pod CIDRs do not exist in sidrad yet). Every call answers
//! UNIMPLEMENTED saying so, rather than an empty answer that would look like "nothing
//! configured".

use sidra_proto::v1 as pb;
use sidra_proto::v1::node_service_server::NodeService;
use sidra_proto::v1::srv6_service_server::Srv6Service;
use tonic::{Request, Response, Status};

pub(super) struct Srv6;
pub(super) struct Node;

fn srv6() -> Status {
    Status::unimplemented(
        "the SRv6 service (locators, local SIDs, policies, steering, data plane) is not \
         implemented in this version of sidrad",
    )
}

fn node() -> Status {
    Status::unimplemented(
        "node pod CIDRs are not implemented in this version of sidrad: originate them with \
         global.networks for now",
    )
}

#[tonic::async_trait]
impl Srv6Service for Srv6 {
    async fn list_locators(
        &self,
        _: Request<pb::ListLocatorsRequest>,
    ) -> Result<Response<pb::ListLocatorsResponse>, Status> {
        Err(srv6())
    }

    async fn list_local_sids(
        &self,
        _: Request<pb::ListLocalSidsRequest>,
    ) -> Result<Response<pb::ListLocalSidsResponse>, Status> {
        Err(srv6())
    }

    async fn list_policies(
        &self,
        _: Request<pb::ListSrPoliciesRequest>,
    ) -> Result<Response<pb::ListSrPoliciesResponse>, Status> {
        Err(srv6())
    }

    async fn list_steering(
        &self,
        _: Request<pb::ListSteeringRequest>,
    ) -> Result<Response<pb::ListSteeringResponse>, Status> {
        Err(srv6())
    }

    async fn get_dataplane_status(
        &self,
        _: Request<pb::GetDataplaneStatusRequest>,
    ) -> Result<Response<pb::DataplaneStatus>, Status> {
        Err(srv6())
    }
}

#[tonic::async_trait]
impl NodeService for Node {
    async fn set_pod_cidrs(
        &self,
        _: Request<pb::SetPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        Err(node())
    }

    async fn add_pod_cidrs(
        &self,
        _: Request<pb::AddPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        Err(node())
    }

    async fn remove_pod_cidrs(
        &self,
        _: Request<pb::RemovePodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        Err(node())
    }

    async fn list_pod_cidrs(
        &self,
        _: Request<pb::ListPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        Err(node())
    }
}
