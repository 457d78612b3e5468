// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {PaymentChannel} from "../src/inference/PaymentChannel.sol";
import {ServiceRegistry} from "../src/inference/ServiceRegistry.sol";

/// @notice The cheatcodes the inference tests add to Vm.sol's: signing a digest, changing the chain id.
interface VmSign {
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function chainId(uint256 newChainId) external;
}

/// @notice The contract set plus the inference contracts, wired as `deploy` wires them:
///         a client with a signing key, a provider staked in the StakeRegistry.
abstract contract InferenceFixture is Fixture {
    VmSign internal constant signer = VmSign(address(uint160(uint256(keccak256("hevm cheat code")))));

    PaymentChannel internal channels;
    ServiceRegistry internal services;

    uint256 internal constant CLIENT_KEY = 0xC11E;
    uint256 internal constant OTHER_KEY = 0xBAD;
    address internal client;
    address internal provider = address(0x2002);
    address internal slasher = address(0x5145);
    uint64 internal constant SERVICE_DELAY = 3 days;
    uint256 internal constant MIN_STAKE = 10 ether;

    function deployInference() internal {
        deployAll();
        client = vm.addr(CLIENT_KEY);
        channels = new PaymentChannel(token);
        services = new ServiceRegistry(registry, governance, SERVICE_DELAY, MIN_STAKE);
        vm.startPrank(governance);
        registry.setLocker(address(services), true);
        services.setSlasher(slasher, true);
        vm.stopPrank();
        address[2] memory actors = [client, provider];
        for (uint256 i = 0; i < actors.length; i++) {
            token.transfer(actors[i], FUNDS);
            vm.startPrank(actors[i]);
            token.approve(address(channels), type(uint256).max);
            token.approve(address(registry), type(uint256).max);
            vm.stopPrank();
        }
    }

    /// A voucher for `cumulative` on channel `id`, signed with `key` for `digest`'s domain.
    function sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = signer.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function voucher(bytes32 id, uint256 cumulative) internal view returns (bytes memory) {
        return sign(CLIENT_KEY, channels.voucherDigest(id, cumulative));
    }

    function openChannel(uint256 amount, uint64 duration) internal returns (bytes32 id) {
        vm.prank(client);
        id = channels.open(provider, amount, uint64(block.timestamp) + duration);
    }
}
