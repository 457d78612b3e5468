// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceDisputesTest} from "./InferenceDisputes.t.sol";
import {CallRelay} from "./CallRelay.sol";
import {VmLogs} from "./DisputeFixture.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {InferenceDisputes} from "../src/inference/InferenceDisputes.sol";
import {InferenceDisputeTypes} from "../src/inference/InferenceDisputeTypes.sol";

/// @notice A dispute opened through another contract (here a relay, as a multisig or a DAO
///         would): the claim is in the GenerationClaim log, not in any transaction's
///         calldata to the game, and the provider defends from it as from a direct open.
///         (The bigram model and the moves are InferenceDisputesTest's; its tests run here too.)
contract InferenceRelayedOpenTest is InferenceDisputesTest {
    function test_openedThroughAContract_logsTheClaim_andIsDefended() public {
        CallRelay relay = new CallRelay();
        token.transfer(address(relay), game.bond());
        relay.call(address(token), abi.encodeWithSignature("approve(address,uint256)", address(game), game.bond()));
        uint32[] memory output = _answer(table, 3);
        InferenceDisputeTypes.Claim memory c = _claim(output, 2, PROVIDER_KEY);
        VmLogs(address(vm)).recordLogs();
        bytes memory result = relay.call(address(game), abi.encodeCall(InferenceDisputes.open, (c)));
        uint256 id = abi.decode(result, (uint256));
        VmLogs.Log[] memory logs = VmLogs(address(vm)).getRecordedLogs();
        InferenceDisputeTypes.Claim memory logged;
        bool found;
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].topics[0] == InferenceDisputeTypes.GenerationClaim.selector && uint256(logs[i].topics[1]) == id) {
                logged = abi.decode(logs[i].data, (InferenceDisputeTypes.Claim));
                found = true;
            }
        }
        assertTrue(found, "the claim is logged");
        assertTrue(keccak256(abi.encode(logged)) == keccak256(abi.encode(c)), "the whole claim, as opened");
        assertEq(game.getDispute(id).challenger, address(relay), "the relay is the challenger");

        // The provider defends from the log alone: its trace, then the relay never pinpoints.
        uint32[] memory window = _window(logged.output, logged.index);
        _postTrace(id, _gather(table, window), logged.output[logged.index]);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = token.balanceOf(liar);
        game.timeout(id);
        assertEq(uint8(game.getDispute(id).reason), uint8(DisputeGameTypes.Reason.PinpointTimeout), "the honest provider wins");
        assertEq(token.balanceOf(liar), before + game.bond(), "and takes the relay's bond");
        assertEq(services.service(serviceId).stake, 40 ether, "stake intact");
    }
}
