// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";
import {DaoGovernance} from "../src/dao/DaoGovernance.sol";

/// @notice The whole contract set, wired as `deploy` wires it, with funded actors.
abstract contract Fixture is TestBase {
    CommonsToken internal token;
    StakeRegistry internal registry;
    TrainingMarket internal market;
    DatasetDaoFactory internal factory;

    address internal governance = address(0x600D);
    address internal requester = address(0x1001);
    address internal trainer = address(0x1002);
    address internal validator = address(0x1003);
    address internal validator2 = address(0x1004);
    address internal challenger = address(0x1005);
    address internal disputeGame = address(0xD15);

    uint64 internal constant UNBONDING_DELAY = 7 days;
    uint256 internal constant FUNDS = 1_000_000 ether;

    function deployAll() internal {
        token = new CommonsToken(100_000_000 ether);
        registry = new StakeRegistry(token, governance, UNBONDING_DELAY);
        market = new TrainingMarket(token, registry, governance);
        factory = new DatasetDaoFactory(token);
        vm.startPrank(governance);
        registry.setLocker(address(market), true);
        registry.setSlasher(address(market), true);
        market.setDisputeGame(disputeGame, true);
        vm.stopPrank();
        address[6] memory actors = [requester, trainer, validator, validator2, challenger, address(this)];
        for (uint256 i = 0; i < actors.length; i++) {
            if (actors[i] != address(this)) token.transfer(actors[i], FUNDS);
            vm.prank(actors[i]);
            token.approve(address(registry), type(uint256).max);
            vm.prank(actors[i]);
            token.approve(address(market), type(uint256).max);
        }
    }

    function stakeAs(address node, uint256 amount, uint8 roles) internal {
        vm.startPrank(node);
        registry.register(abi.encodePacked("peer-", node), roles);
        registry.stake(amount);
        vm.stopPrank();
    }

    function spec(uint256 reward, uint256 jobStake) internal pure returns (TrainingMarketTypes.JobSpec memory) {
        return TrainingMarketTypes.JobSpec({
            datasetCid: hex"01711220aa",
            tokensRoot: keccak256("tokens"),
            recipeCid: hex"01711220bb",
            programHash: keccak256("program"),
            modelHeader: keccak256("model header"),
            seed: 42,
            steps: 100,
            reward: reward,
            jobStake: jobStake,
            trainingTime: 1 hours,
            challengeWindow: 1 hours
        });
    }

    function defaultParams() internal pure returns (DaoGovernance.Params memory) {
        return DaoGovernance.Params({votingDelay: 0, votingPeriod: 1 days, timelockDelay: 1 hours, quorumBps: 2_000, forkThresholdBps: 2_000, forkPeriod: 3 days, executionPeriod: 7 days});
    }
}
