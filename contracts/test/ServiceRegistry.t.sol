// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceFixture} from "./InferenceFixture.sol";
import {ServiceRegistry} from "../src/inference/ServiceRegistry.sol";
import {InferenceErrors} from "../src/inference/InferenceErrors.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice ServiceRegistry: a service's life (register, update, retire, release) and the
///         attacks on it: escaping a slash by retiring, releasing early, stake counted
///         twice, strangers changing or retiring a service.
contract ServiceRegistryTest is InferenceFixture {
    bytes32 internal constant ROOT = keccak256("model state root");

    function setUp() public {
        deployInference();
        stakeAs(provider, 100 ether, 0);
    }

    function registerService(uint256 stake) internal returns (uint256 id) {
        vm.prank(provider);
        id = services.register(ROOT, hex"01711220cc", 2 ether, "/ip4/127.0.0.1/tcp/4001/p2p/peer", stake);
    }

    function test_registerUpdateRetireRelease() public {
        uint256 id = registerService(40 ether);
        ServiceRegistry.Service memory s = services.service(id);
        assertEq(s.provider, provider, "provider");
        assertEq(s.pricePer1k, 2 ether, "price");
        assertEq(s.stake, 40 ether, "stake");
        assertEq(registry.lockedBy(address(services), provider), 40 ether, "stake locked by the registry of services");
        assertTrue(services.isLive(id), "live");
        vm.prank(provider);
        services.update(id, 3 ether, "http://127.0.0.1:8080");
        assertEq(services.service(id).pricePer1k, 3 ether, "new price");
        vm.prank(provider);
        services.retire(id);
        assertTrue(!services.isLive(id), "retired at once");
        vm.warp(block.timestamp + SERVICE_DELAY);
        services.release(id);
        assertEq(registry.nodeOf(provider).locked, 0, "stake unlocked");
        assertEq(registry.freeStake(provider), 100 ether, "all free again");
    }

    function test_attack_releaseBeforeTheDelay() public {
        uint256 id = registerService(40 ether);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ServiceNotRetiring.selector, id));
        services.release(id);
        vm.prank(provider);
        services.retire(id);
        uint64 releaseAt = uint64(block.timestamp) + SERVICE_DELAY;
        vm.warp(releaseAt - 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ReleaseNotReady.selector, id, releaseAt, releaseAt - 1));
        services.release(id);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientFreeStake.selector, provider, 60 ether, 61 ether));
        vm.prank(provider);
        registry.unbond(61 ether);
    }

    function test_attack_retiringDoesNotEscapeASlash() public {
        uint256 id = registerService(40 ether);
        vm.prank(provider);
        services.retire(id);
        uint256 before = token.balanceOf(client);
        vm.prank(slasher);
        services.slash(id, 40 ether, client, governance);
        assertEq(token.balanceOf(client) - before, 20 ether, "the wronged client gets the beneficiary's share");
        assertEq(registry.nodeOf(provider).staked, 60 ether, "stake taken");
        vm.warp(block.timestamp + SERVICE_DELAY);
        services.release(id);
        assertEq(registry.nodeOf(provider).locked, 0, "nothing left locked");
    }

    function test_attack_onlySlashersSlashOnlyTheServiceStake() public {
        uint256 id = registerService(40 ether);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotSlasher.selector, client));
        vm.prank(client);
        services.slash(id, 1, client, client);
        // A slash is capped by the service's stake: the provider's free stake is not at risk.
        vm.prank(slasher);
        services.slash(id, 1_000 ether, client, governance);
        assertEq(registry.nodeOf(provider).staked, 60 ether, "only the service's stake");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, client));
        vm.prank(client);
        services.setSlasher(client, true);
    }

    function test_attack_stakeCannotBackTwoServicesOrAJob() public {
        registerService(70 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientFreeStake.selector, provider, 30 ether, 40 ether));
        registerService(40 ether);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.StakeTooLow.selector, 1 ether, MIN_STAKE));
        registerService(1 ether);
    }

    function test_attack_strangersCannotChangeOrRetire() public {
        uint256 id = registerService(40 ether);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotProvider.selector, client, provider));
        vm.prank(client);
        services.update(id, 1, "evil");
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotProvider.selector, client, provider));
        vm.prank(client);
        services.retire(id);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.UnknownService.selector, id + 1));
        services.release(id + 1);
        vm.prank(provider);
        services.retire(id);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.AlreadyRetiring.selector, id, uint64(block.timestamp) + SERVICE_DELAY));
        vm.prank(provider);
        services.update(id, 5 ether, "back");
    }
}
