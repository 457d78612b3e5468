// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {DaoFixture} from "./DaoFixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";
import {DaoGovernance} from "../src/dao/DaoGovernance.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";

contract DatasetDaoTest is DaoFixture {
    function setUp() public {
        setUpDao();
    }

    function test_proposalSetsTheHead() public {
        uint256 id = pass(setHead("make v2 canonical"));
        assertTrue(keccak256(dao.head()) == keccak256(HEAD_2), "head moved");
        assertTrue(isState(dao, id, IGovernor.ProposalState.Executed), "executed");
    }

    function test_lifecycleStatesAndTimelock() public {
        Calls memory c = setHead("bob's head");
        uint256 id = proposeAs(dao, bob, c);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Pending), "pending");
        expectState(id, IGovernor.ProposalState.Pending, IGovernor.ProposalState.Active);
        voteAs(dao, bob, id, 1);
        vm.warp(block.timestamp + 1);
        voteAs(dao, bob, id, 1);
        voteAs(dao, carol, id, 0);
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.AlreadyVoted.selector, id, bob));
        voteAs(dao, bob, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Succeeded), "30 for, 10 against, quorum 20");
        queue(dao, c);
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.TimelockNotPassed.selector, id, uint48(block.timestamp + 1 hours)));
        execute(dao, c);
        vm.warp(block.timestamp + 1 hours);
        Calls memory other = one(address(dao), abi.encodeCall(DatasetDao.setHead, (hex"ff")), c.description);
        // Other calls are another proposal, which was never made.
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 0));
        execute(dao, other);
        execute(dao, c);
        assertTrue(keccak256(dao.head()) == keccak256(HEAD_2), "head moved");
    }

    function test_defeatedWithoutQuorumOrMajority() public {
        Calls memory c = setHead("carol alone");
        uint256 id = proposeAs(dao, carol, c);
        vm.warp(block.timestamp + 1);
        voteAs(dao, carol, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Defeated), "10 of 100 is below quorum");
        expectState(id, IGovernor.ProposalState.Defeated, IGovernor.ProposalState.Succeeded);
        queue(dao, c);
    }

    function test_actionsOnlyByProposal() public {
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.OnlyDao.selector, alice));
        vm.prank(alice);
        dao.setHead(HEAD_2);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.OnlyDao.selector, alice));
        vm.prank(alice);
        dao.admitMember(alice, 1000);
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.NoShares.selector, requester));
        proposeAs(dao, requester, setHead("outsider"));
    }

    function same(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }

    function test_proposalIdsCountUpFromOne() public {
        assertEq(proposeAs(dao, alice, setHead("first")), 1, "first id");
        assertEq(proposeAs(dao, bob, setHead("second")), 2, "second id");
        assertEq(dao.latestProposalId(), 2, "latest");
    }

    function test_readsAsAGovernor() public view {
        assertTrue(same(dao.name(), "corpus"), "name");
        assertTrue(same(dao.CLOCK_MODE(), "mode=timestamp"), "ERC-6372 clock mode");
        assertEq(dao.clock(), block.timestamp, "ERC-6372 clock");
        assertTrue(same(dao.COUNTING_MODE(), "support=bravo&quorum=for,abstain"), "counting");
        assertEq(dao.token(), address(dao), "the DAO is its own votes token");
        assertEq(dao.getVotes(alice), 60, "votes are shares");
        assertEq(dao.delegates(alice), alice, "shares vote themselves");
        assertTrue(dao.supportsInterface(type(IGovernor).interfaceId), "IGovernor");
        assertEq(dao.quorum(block.timestamp), 20, "20% of 100 shares");
    }

    function test_admitMemberAndAdoptModel() public {
        Calls memory c;
        c.targets = new address[](2);
        c.values = new uint256[](2);
        c.calldatas = new bytes[](2);
        c.targets[0] = address(dao);
        c.targets[1] = address(dao);
        c.calldatas[0] = abi.encodeCall(DatasetDao.admitMember, (requester, 25));
        c.calldatas[1] = abi.encodeCall(DatasetDao.adoptModel, (7, hex"0155beef"));
        c.description = "admit and adopt";
        pass(c);
        assertEq(dao.sharesOf(requester), 25, "admitted");
        assertEq(dao.totalShares(), 125, "total");
        assertTrue(keccak256(dao.adoptedModel(7)) == keccak256(hex"0155beef"), "adopted");
    }

    function test_changeParametersByProposal() public {
        DaoGovernance.Params memory p = defaultParams();
        p.quorumBps = 5_000;
        p.votingPeriod = 2 days;
        pass(one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)), "slower"));
        (, uint32 votingPeriod,, uint16 quorumBps,,,) = dao.params();
        assertEq(votingPeriod, 2 days, "voting period");
        assertEq(quorumBps, 5_000, "quorum");
        p.forkThresholdBps = 0;
        Calls memory c = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)), "bad");
        uint256 id = proposeAs(dao, alice, c);
        vm.warp(block.timestamp + 1);
        voteAs(dao, alice, id, 1);
        vm.warp(block.timestamp + 2 days + 1);
        queue(dao, c);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.InvalidParams.selector, "forkThresholdBps"));
        execute(dao, c);
    }

    function test_fundJobFromTheTreasury() public {
        TrainingMarketTypes.JobSpec memory s = spec(2_000 ether, 100 ether);
        pass(one(address(dao), abi.encodeCall(DatasetDao.fundJob, (market, s)), "train"));
        assertEq(dao.treasury(), 8_000 ether, "treasury paid");
        TrainingMarketTypes.Job memory job = market.getJob(0);
        assertEq(job.requester, address(dao), "the DAO is the requester");
        assertEq(job.treasury, address(dao), "slashes come back to the DAO");
        assertEq(job.spec.reward, 2_000 ether, "reward");
    }

    function test_forkMovesEscrowedSharesAndProRataTreasury() public {
        // Only shares held before the fork's second can join it: the founding second ends first.
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.escrowToFork(30);
        assertEq(dao.sharesOf(bob), 0, "escrowed shares stop counting");
        vm.prank(carol);
        dao.escrowToFork(5);
        uint256 treasury = dao.treasury();
        DatasetDao fork = dao.executeFork();
        uint256 moved = treasury * 35 / 100;
        assertEq(fork.treasury(), moved, "pro-rata treasury");
        assertEq(dao.treasury(), treasury - moved, "rest stays");
        assertEq(fork.sharesOf(bob), 30, "bob's shares in the fork");
        assertEq(fork.sharesOf(carol), 5, "carol's escrowed shares in the fork");
        assertEq(dao.sharesOf(carol), 5, "carol keeps the rest");
        assertEq(dao.sharesOf(alice), 60, "alice untouched");
        assertEq(fork.parent(), address(dao), "lineage: parent");
        assertTrue(keccak256(fork.forkPoint()) == keccak256(HEAD_1), "lineage: fork point");
        assertTrue(keccak256(fork.head()) == keccak256(HEAD_1), "same head");
        assertTrue(factory.isDao(address(fork)), "made by the factory");

        uint256 left = dao.treasury();
        vm.prank(carol);
        dao.joinFork(5);
        assertEq(fork.sharesOf(carol), 10, "carol joins during the fork period");
        assertEq(left - dao.treasury(), left * 5 / 65, "with her pro-rata part");
        vm.warp(block.timestamp + 3 days + 1);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ForkJoinClosed.selector, uint48(block.timestamp - 3 days - 1 + 3 days)));
        vm.prank(alice);
        dao.joinFork(1);
    }

    function test_forkNeedsTheThreshold() public {
        vm.prank(carol);
        dao.escrowToFork(10);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ForkThresholdNotReached.selector, 10, 20));
        dao.executeFork();
        vm.prank(carol);
        dao.withdrawFromForkEscrow(10);
        assertEq(dao.sharesOf(carol), 10, "withdrawn from escrow");
    }

    function test_clonesInitialiseOnce() public {
        address[] memory none = new address[](0);
        uint256[] memory noShares = new uint256[](0);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        dao.initialize(token, address(0), "", "again", HEAD_2, none, noShares, defaultParams());
        DatasetDao implementation = factory.implementation();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        implementation.initialize(token, address(0), "", "original", HEAD_2, none, noShares, defaultParams());
    }

    /// The implementation every DAO clones must stay deployable (EIP-170).
    function test_implementationFitsTheSizeLimit() public view {
        uint256 size = address(factory.implementation()).code.length;
        assertTrue(size <= 24_576, "over the EIP-170 limit");
    }

    function test_forksCanOnlyBeCreatedByDaos() public {
        address[] memory none = new address[](0);
        uint256[] memory noShares = new uint256[](0);
        vm.expectRevert(abi.encodeWithSelector(DatasetDaoFactory.NotADao.selector, address(this)));
        factory.createFork("x", HEAD_1, none, noShares, defaultParams());
    }

    function testFuzz_forkTreasuryIsProRata(uint256 treasury, uint8 bobShares, uint8 carolShares) public {
        treasury = bound(treasury, 0, 1_000_000 ether);
        uint256 b = bound(bobShares, 1, 30);
        uint256 c = bound(carolShares, 0, 10);
        vm.assume(b + c >= 20);
        deal(address(dao), treasury);
        vm.prank(bob);
        dao.escrowToFork(b);
        if (c > 0) {
            vm.prank(carol);
            dao.escrowToFork(c);
        }
        DatasetDao fork = dao.executeFork();
        assertEq(fork.treasury(), treasury * (b + c) / 100, "pro rata");
        assertEq(fork.treasury() + dao.treasury(), treasury, "nothing lost or created");
        assertEq(fork.totalShares(), b + c, "fork shares");
        assertEq(dao.totalShares(), 100 - b - c, "parent shares");
    }

    function deal(address account, uint256 amount) internal {
        uint256 have = token.balanceOf(account);
        if (have > amount) {
            vm.prank(account);
            token.transfer(address(this), have - amount);
        } else {
            token.transfer(account, amount - have);
        }
    }
}
